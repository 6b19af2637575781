/* -*- c++ -*- */
/* gr-lmsscc deterministic Llama engine; see include/gnuradio/lmsscc/llama_engine.h
 * and docs/engine.md.
 *
 * Determinism rules kept throughout this file:
 *  - integer dot products inside a block of 32 (exact, any order);
 *  - every float reduction has one fixed order that does not depend on the
 *    batch, the thread count or the SIMD path; vector code only ever puts
 *    independent rows / positions / dimensions in its lanes;
 *  - no FMA (compiled with -ffp-contract=off, intrinsics use mul then add);
 *  - no libm transcendental functions (own exp, sin, cos; sqrt and division
 *    are correctly rounded IEEE operations).
 * Build with -DLMSSCC_ENGINE_SCALAR_ONLY to compile the scalar path alone. */

#include <gnuradio/lmsscc/llama_engine.h>

/* GCC 12 warns inside its own AVX-512 headers (_mm512_undefined_*). */
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <algorithm>
#include <cmath>
#include <exception>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>

#if !defined(LMSSCC_ENGINE_SCALAR_ONLY) && (defined(__x86_64__) || defined(__i386__)) && \
    defined(__GNUC__)
#define LMSSCC_HAVE_X86_KERNELS 1
#include <immintrin.h>
#else
#define LMSSCC_HAVE_X86_KERNELS 0
#endif

#if LMSSCC_HAVE_X86_KERNELS && !defined(LMSSCC_ENGINE_NO_CLONES)
/* Plain C++ float code compiled for several ISAs, picked at load time by the
 * CPU. Without -ffast-math and with -ffp-contract=off the compiler may only
 * vectorize independent lanes and never fuses or reorders float operations,
 * so every clone computes the same bits. */
#define LMSSCC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LMSSCC_CLONES
#endif
#define LMSSCC_INLINE inline __attribute__((always_inline))

namespace gr {
namespace lmsscc {

/* ---------------------------------------------------------------- SIMD levels */

bool simd_supported(simd_level level)
{
    switch (level) {
    case simd_level::scalar:
        return true;
#if LMSSCC_HAVE_X86_KERNELS
    case simd_level::avx2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
    case simd_level::avx512vnni:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
               __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
#endif
    default:
        return false;
    }
}

simd_level best_simd()
{
    if (simd_supported(simd_level::avx512vnni))
        return simd_level::avx512vnni;
    if (simd_supported(simd_level::avx2))
        return simd_level::avx2;
    return simd_level::scalar;
}

const char* simd_name(simd_level level)
{
    switch (level) {
    case simd_level::scalar:
        return "scalar";
    case simd_level::avx2:
        return "avx2";
    case simd_level::avx512vnni:
        return "avx512vnni";
    }
    return "?";
}

simd_level parse_simd(const std::string& name)
{
    if (name == "auto" || name.empty())
        return best_simd();
    if (name == "scalar")
        return simd_level::scalar;
    if (name == "avx2")
        return simd_level::avx2;
    if (name == "avx512vnni" || name == "avx512")
        return simd_level::avx512vnni;
    throw std::invalid_argument("unknown SIMD level '" + name +
                                "' (scalar, avx2, avx512vnni or auto)");
}

/* ---------------------------------------------------------------- halves */

float half_to_float(uint16_t h)
{
    const uint32_t sign = uint32_t(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    const uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else { // subnormal: mant * 2^-24, exact in float
            const float f = float(mant) * 5.9604644775390625e-08f;
            return sign ? -f : f;
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 112u) << 23) | (mant << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

uint16_t float_to_half(float f)
{
    uint32_t x;
    std::memcpy(&x, &f, 4);
    const uint32_t sign = (x >> 16) & 0x8000u;
    const int32_t fexp = int32_t((x >> 23) & 0xffu);
    uint32_t m = x & 0x7fffffu;
    if (fexp == 0xff)
        return uint16_t(sign | 0x7c00u | (m ? 0x200u : 0u));
    const int32_t e = fexp - 127 + 15;
    if (e >= 31)
        return uint16_t(sign | 0x7c00u);
    if (e <= 0) {
        if (e < -10)
            return uint16_t(sign);
        m |= 0x800000u;
        const int shift = 14 - e;
        uint32_t hm = m >> shift;
        const uint32_t rem = m & ((1u << shift) - 1u);
        const uint32_t half = 1u << (shift - 1);
        if (rem > half || (rem == half && (hm & 1u)))
            ++hm;
        return uint16_t(sign | hm);
    }
    uint32_t out = sign | (uint32_t(e) << 10) | (m >> 13);
    const uint32_t rem = m & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (out & 1u)))
        ++out; // may carry into the exponent: correct rounding to the next binade
    return uint16_t(out);
}

/* ---------------------------------------------------------------- qmatrix */

namespace {

constexpr size_t SCALE_BYTES = 2 * QGROUP * sizeof(uint16_t); // 16 d + 16 m

size_t quant_bytes(int bits) { return size_t(QGROUP) * QBLOCK * size_t(bits) / 8; }

/* Round half to even for |v| < 2^22 with plain float arithmetic. */
LMSSCC_INLINE float round_even(float v)
{
    const float magic = 12582912.0f; // 1.5 * 2^23
    const float a = (std::fabs(v) + magic) - magic;
    return v < 0.0f ? -a : a;
}

void* aligned_alloc64(size_t bytes)
{
    void* p = nullptr;
    if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0)
        throw std::bad_alloc();
    return p;
}

} // namespace

size_t qmatrix::chunk_bytes() const { return quant_bytes(bits_) + SCALE_BYTES; }

void qmatrix::allocate(int rows, int cols, int bits)
{
    if (rows <= 0 || cols <= 0 || cols % QBLOCK != 0)
        throw std::invalid_argument("qmatrix: rows must be > 0 and cols a positive multiple of 32");
    if (bits != 4 && bits != 8)
        throw std::invalid_argument("qmatrix: bits must be 4 or 8");
    rows_ = rows;
    cols_ = cols;
    bits_ = bits;
    size_ = size_t(groups()) * size_t(blocks()) * chunk_bytes();
    uint8_t* p = static_cast<uint8_t*>(aligned_alloc64(size_));
    std::memset(p, 0, size_);
    data_ = std::shared_ptr<uint8_t>(p, [](uint8_t* q) { std::free(q); });
}

const uint8_t* qmatrix::chunk(int group, int block) const
{
    return data_.get() + (size_t(group) * size_t(blocks()) + size_t(block)) * chunk_bytes();
}

uint8_t* qmatrix::chunk_mut(int group, int block)
{
    return data_.get() + (size_t(group) * size_t(blocks()) + size_t(block)) * chunk_bytes();
}

/* Byte of column k (0..31) of lane r (0..15) in a chunk: 4 columns per lane
 * per 64-byte line. 8-bit: line j = k/4. 4-bit: low nibbles hold k < 16
 * (line k/4), high nibbles k >= 16 (line (k-16)/4). */
unsigned qmatrix::unit(int r, int k) const
{
    const uint8_t* c = chunk(r / QGROUP, k / QBLOCK);
    const int lane = r % QGROUP, kk = k % QBLOCK;
    if (bits_ == 8)
        return c[(kk / 4) * 64 + lane * 4 + kk % 4];
    const int low = kk < 16;
    const int k16 = kk % 16;
    const uint8_t byte = c[(k16 / 4) * 64 + lane * 4 + k16 % 4];
    return low ? (byte & 0x0fu) : (byte >> 4);
}

void qmatrix::set_unit(int r, int k, unsigned u)
{
    uint8_t* c = chunk_mut(r / QGROUP, k / QBLOCK);
    const int lane = r % QGROUP, kk = k % QBLOCK;
    if (bits_ == 8) {
        c[(kk / 4) * 64 + lane * 4 + kk % 4] = uint8_t(u);
        return;
    }
    const int k16 = kk % 16;
    uint8_t& byte = c[(k16 / 4) * 64 + lane * 4 + k16 % 4];
    if (kk < 16)
        byte = uint8_t((byte & 0xf0u) | (u & 0x0fu));
    else
        byte = uint8_t((byte & 0x0fu) | ((u & 0x0fu) << 4));
}

void qmatrix::set_scales(int r, int b, uint16_t d, uint16_t m)
{
    uint8_t* c = chunk_mut(r / QGROUP, b) + quant_bytes(bits_);
    const int lane = r % QGROUP;
    std::memcpy(c + 2 * lane, &d, 2);
    std::memcpy(c + 2 * QGROUP + 2 * lane, &m, 2);
}

float qmatrix::block_d(int r, int b) const
{
    uint16_t h;
    std::memcpy(&h, chunk(r / QGROUP, b) + quant_bytes(bits_) + 2 * (r % QGROUP), 2);
    return half_to_float(h);
}

float qmatrix::block_m(int r, int b) const
{
    uint16_t h;
    std::memcpy(&h, chunk(r / QGROUP, b) + quant_bytes(bits_) + 2 * QGROUP + 2 * (r % QGROUP), 2);
    return half_to_float(h);
}

float qmatrix::weight(int r, int k) const
{
    const float d = block_d(r, k / QBLOCK);
    if (q8_signed_)
        return d * float(int(unit(r, k)) - 128);
    const float t = d * float(unit(r, k));
    return t + block_m(r, k / QBLOCK);
}

void qmatrix::dequantize_row(int r, float* out) const
{
    if (r < 0 || r >= rows_)
        throw std::out_of_range("qmatrix: row out of range");
    for (int k = 0; k < cols_; ++k)
        out[k] = weight(r, k);
}

qmatrix qmatrix::from_q4_1(const uint8_t* blocks, int rows, int cols)
{
    qmatrix w;
    w.allocate(rows, cols, 4);
    const int nb = cols / QBLOCK;
    for (int r = 0; r < rows; ++r) {
        const int lane = r % QGROUP;
        for (int b = 0; b < nb; ++b) {
            const uint8_t* blk = blocks + (size_t(r) * nb + b) * 20; // half d, half m, 16 bytes
            uint16_t d, m;
            std::memcpy(&d, blk, 2);
            std::memcpy(&m, blk + 2, 2);
            w.set_scales(r, b, d, m);
            // Q4_1 byte j holds u[j] (low nibble) and u[j+16] (high): exactly
            // the engine's 4-bit lane layout, 4 bytes per 64-byte line.
            uint8_t* c = w.chunk_mut(r / QGROUP, b);
            for (int j = 0; j < 4; ++j)
                std::memcpy(c + j * 64 + lane * 4, blk + 4 + 4 * j, 4);
        }
    }
    return w;
}

qmatrix qmatrix::from_q8_0(const uint8_t* blocks, int rows, int cols)
{
    qmatrix w;
    w.allocate(rows, cols, 8);
    w.q8_signed_ = true;
    const int nb = cols / QBLOCK;
    for (int r = 0; r < rows; ++r) {
        const int lane = r % QGROUP;
        for (int b = 0; b < nb; ++b) {
            const uint8_t* blk = blocks + (size_t(r) * nb + b) * 34; // half d, 32 int8
            uint16_t d;
            std::memcpy(&d, blk, 2);
            const float df = half_to_float(d);
            const uint16_t m = float_to_half(-128.0f * df);
            if (half_to_float(m) != -128.0f * df)
                throw std::runtime_error("Q8_0 block scale too large for the engine's offset form");
            w.set_scales(r, b, d, m);
            uint8_t* c = w.chunk_mut(r / QGROUP, b);
            for (int j = 0; j < 8; ++j)
                for (int i = 0; i < 4; ++i) // u = q + 128
                    c[j * 64 + lane * 4 + i] = uint8_t(blk[2 + 4 * j + i] ^ 0x80u);
        }
    }
    return w;
}

qmatrix qmatrix::from_float(const float* src, int rows, int cols, int bits)
{
    qmatrix w;
    w.allocate(rows, cols, bits);
    const int nb = cols / QBLOCK;
    const float levels = bits == 4 ? 15.0f : 255.0f;
    for (int r = 0; r < rows; ++r) {
        for (int b = 0; b < nb; ++b) {
            const float* x = src + size_t(r) * cols + size_t(b) * QBLOCK;
            float lo = x[0], hi = x[0];
            for (int j = 1; j < QBLOCK; ++j) {
                lo = std::min(lo, x[j]);
                hi = std::max(hi, x[j]);
            }
            const uint16_t dh = float_to_half((hi - lo) / levels);
            const uint16_t mh = float_to_half(lo);
            w.set_scales(r, b, dh, mh);
            const float d = half_to_float(dh), m = half_to_float(mh);
            for (int j = 0; j < QBLOCK; ++j) {
                float u = d > 0.0f ? round_even((x[j] - m) / d) : 0.0f;
                u = std::min(std::max(u, 0.0f), levels);
                w.set_unit(r, b * QBLOCK + j, unsigned(u));
            }
        }
    }
    return w;
}

/* ---------------------------------------------------------------- activations */

namespace {

LMSSCC_CLONES void
quantize_rows(const float* x, int n, int cols, int8_t* qout, float* scale, int32_t* sums)
{
    const int nb = cols / QBLOCK;
    for (int t = 0; t < n; ++t) {
        for (int b = 0; b < nb; ++b) {
            const float* v = x + size_t(t) * cols + size_t(b) * QBLOCK;
            int8_t* q = qout + size_t(t) * cols + size_t(b) * QBLOCK;
            float amax = 0.0f;
            for (int j = 0; j < QBLOCK; ++j)
                amax = std::max(amax, std::fabs(v[j]));
            const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
            int32_t sum = 0;
            for (int j = 0; j < QBLOCK; ++j) {
                float r = round_even(v[j] * inv);
                r = std::min(std::max(r, -127.0f), 127.0f);
                q[j] = int8_t(int32_t(r));
                sum += q[j];
            }
            scale[size_t(t) * nb + b] = amax / 127.0f;
            sums[size_t(t) * nb + b] = sum;
        }
    }
}

} // namespace

void quantize_activations(const float* x, int n, int cols, qactivations& out)
{
    if (cols % QBLOCK != 0)
        throw std::invalid_argument("quantize_activations: cols must be a multiple of 32");
    const int nb = cols / QBLOCK;
    out.n = n;
    out.cols = cols;
    out.q.resize(size_t(n) * cols);
    out.scale.resize(size_t(n) * nb);
    out.sum.resize(size_t(n) * nb);
    quantize_rows(x, n, cols, out.q.data(), out.scale.data(), out.sum.data());
}

/* ---------------------------------------------------------------- matmul kernels */

namespace {

inline int32_t load_i32(const int8_t* p)
{
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

/* Scalar path: reads the interleaved chunk layout directly. */
template <int BITS>
void kernel_scalar(const qmatrix& w, const qactivations& x, float* y, int g0, int g1)
{
    const int nb = w.blocks(), cols = w.cols(), rows = w.rows();
    const size_t qb = quant_bytes(BITS);
    for (int g = g0; g < g1; ++g) {
        for (int t = 0; t < x.n; ++t) {
            float acc[QGROUP];
            for (int r = 0; r < QGROUP; ++r)
                acc[r] = 0.0f;
            for (int b = 0; b < nb; ++b) {
                const uint8_t* c = w.chunk(g, b);
                const int8_t* xq = x.q.data() + size_t(t) * cols + size_t(b) * QBLOCK;
                const float xs = x.scale[size_t(t) * nb + b];
                const float xsum = float(x.sum[size_t(t) * nb + b]);
                for (int r = 0; r < QGROUP; ++r) {
                    int32_t isum = 0;
                    if (BITS == 8) {
                        for (int j = 0; j < 8; ++j)
                            for (int i = 0; i < 4; ++i)
                                isum += int32_t(c[j * 64 + r * 4 + i]) * int32_t(xq[4 * j + i]);
                    } else {
                        for (int j = 0; j < 4; ++j)
                            for (int i = 0; i < 4; ++i) {
                                const uint8_t byte = c[j * 64 + r * 4 + i];
                                isum += int32_t(byte & 0x0f) * int32_t(xq[4 * j + i]);
                                isum += int32_t(byte >> 4) * int32_t(xq[16 + 4 * j + i]);
                            }
                    }
                    uint16_t dh, mh;
                    std::memcpy(&dh, c + qb + 2 * r, 2);
                    std::memcpy(&mh, c + qb + 2 * QGROUP + 2 * r, 2);
                    const float t1 = half_to_float(dh) * float(isum);
                    const float t2 = half_to_float(mh) * xsum;
                    const float blk = t1 + t2;
                    const float contrib = blk * xs;
                    acc[r] = acc[r] + contrib;
                }
            }
            const int base = g * QGROUP;
            for (int r = 0; r < QGROUP && base + r < rows; ++r)
                y[size_t(t) * rows + base + r] = acc[r];
        }
    }
}

#if LMSSCC_HAVE_X86_KERNELS

#define LMSSCC_T512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,f16c")))
#define LMSSCC_T256 __attribute__((target("avx2,f16c")))

/* AVX-512 VNNI: one zmm = 16 rows x 4 columns; vpdpbusd(u8 weights, s8 x)
 * accumulates exact int32 block sums per row, x broadcast 4 bytes at a time. */
template <int BITS, int NT>
LMSSCC_T512 void tile_avx512(const qmatrix& w, const qactivations& x, float* y, int g, int t0)
{
    const int nb = w.blocks(), cols = w.cols(), rows = w.rows();
    const size_t qb = quant_bytes(BITS);
    __m512 acc[NT];
    for (int s = 0; s < NT; ++s)
        acc[s] = _mm512_setzero_ps();
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    for (int b = 0; b < nb; ++b) {
        const uint8_t* c = w.chunk(g, b);
        __m512i wv[8];
        if (BITS == 4) {
            for (int j = 0; j < 4; ++j) {
                const __m512i v = _mm512_load_si512(reinterpret_cast<const void*>(c + 64 * j));
                wv[j] = _mm512_and_si512(v, low4);
                wv[j + 4] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
            }
        } else {
            for (int j = 0; j < 8; ++j)
                wv[j] = _mm512_load_si512(reinterpret_cast<const void*>(c + 64 * j));
        }
        const __m512 d =
            _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(c + qb)));
        const __m512 m = _mm512_cvtph_ps(
            _mm256_load_si256(reinterpret_cast<const __m256i*>(c + qb + 2 * QGROUP)));
        for (int s = 0; s < NT; ++s) {
            const size_t tt = size_t(t0 + s);
            const int8_t* xq = x.q.data() + tt * cols + size_t(b) * QBLOCK;
            __m512i is0 = _mm512_setzero_si512(), is1 = _mm512_setzero_si512();
            for (int j = 0; j < 8; j += 2) { // two chains: shorter dependency
                is0 = _mm512_dpbusd_epi32(is0, wv[j], _mm512_set1_epi32(load_i32(xq + 4 * j)));
                is1 = _mm512_dpbusd_epi32(is1, wv[j + 1],
                                          _mm512_set1_epi32(load_i32(xq + 4 * j + 4)));
            }
            const __m512i is = _mm512_add_epi32(is0, is1); // exact integers: any order
            const __m512 t1 = _mm512_mul_ps(d, _mm512_cvtepi32_ps(is));
            const __m512 t2 = _mm512_mul_ps(m, _mm512_set1_ps(float(x.sum[tt * nb + b])));
            const __m512 blk = _mm512_add_ps(t1, t2);
            acc[s] = _mm512_add_ps(acc[s], _mm512_mul_ps(blk, _mm512_set1_ps(x.scale[tt * nb + b])));
        }
    }
    const int base = g * QGROUP;
    const int valid = std::min(QGROUP, rows - base);
    const __mmask16 mask = valid == QGROUP ? __mmask16(0xffff) : __mmask16((1u << valid) - 1u);
    for (int s = 0; s < NT; ++s)
        _mm512_mask_storeu_ps(y + size_t(t0 + s) * rows + base, mask, acc[s]);
}

/* AVX2: one ymm = 8 rows x 4 columns (each group in two halves);
 * vpmaddubsw + vpmaddwd give exact int32 sums (no saturation: 4-bit units
 * are <= 15; 8-bit units are turned back into signed q and multiplied with
 * the sign trick, |q| <= 128, |x| <= 127). */
template <int BITS, int NT>
LMSSCC_T256 void tile_avx2(const qmatrix& w, const qactivations& x, float* y, int g, int t0)
{
    const int nb = w.blocks(), cols = w.cols(), rows = w.rows();
    const size_t qb = quant_bytes(BITS);
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const __m256i flip = _mm256_set1_epi8(char(0x80));
    const __m256i ones = _mm256_set1_epi16(1);
    for (int h = 0; h < 2; ++h) {
        __m256 acc[NT];
        for (int s = 0; s < NT; ++s)
            acc[s] = _mm256_setzero_ps();
        for (int b = 0; b < nb; ++b) {
            const uint8_t* c = w.chunk(g, b);
            __m256i wv[8];
            if (BITS == 4) {
                for (int j = 0; j < 4; ++j) {
                    const __m256i v =
                        _mm256_load_si256(reinterpret_cast<const __m256i*>(c + 64 * j + 32 * h));
                    wv[j] = _mm256_and_si256(v, low4);
                    wv[j + 4] = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
                }
            } else {
                for (int j = 0; j < 8; ++j)
                    wv[j] = _mm256_xor_si256(
                        _mm256_load_si256(reinterpret_cast<const __m256i*>(c + 64 * j + 32 * h)),
                        flip); // signed q = u - 128
            }
            const __m256 d = _mm256_cvtph_ps(
                _mm_load_si128(reinterpret_cast<const __m128i*>(c + qb + 16 * h)));
            const __m256 m = _mm256_cvtph_ps(
                _mm_load_si128(reinterpret_cast<const __m128i*>(c + qb + 2 * QGROUP + 16 * h)));
            for (int s = 0; s < NT; ++s) {
                const size_t tt = size_t(t0 + s);
                const int8_t* xq = x.q.data() + tt * cols + size_t(b) * QBLOCK;
                const int32_t xsum = x.sum[tt * nb + b];
                __m256i is = _mm256_setzero_si256();
                for (int j = 0; j < 8; ++j) {
                    const __m256i xb = _mm256_set1_epi32(load_i32(xq + 4 * j));
                    __m256i p;
                    if (BITS == 4)
                        p = _mm256_maddubs_epi16(wv[j], xb);
                    else
                        p = _mm256_maddubs_epi16(_mm256_abs_epi8(wv[j]),
                                                 _mm256_sign_epi8(xb, wv[j]));
                    is = _mm256_add_epi32(is, _mm256_madd_epi16(p, ones));
                }
                if (BITS == 8) // sum(u x) = sum(q x) + 128 sum(x)
                    is = _mm256_add_epi32(is, _mm256_set1_epi32(128 * xsum));
                const __m256 t1 = _mm256_mul_ps(d, _mm256_cvtepi32_ps(is));
                const __m256 t2 = _mm256_mul_ps(m, _mm256_set1_ps(float(xsum)));
                const __m256 blk = _mm256_add_ps(t1, t2);
                acc[s] = _mm256_add_ps(acc[s],
                                       _mm256_mul_ps(blk, _mm256_set1_ps(x.scale[tt * nb + b])));
            }
        }
        const int base = g * QGROUP + 8 * h;
        const int valid = std::min(8, rows - base);
        for (int s = 0; s < NT; ++s) {
            float* dst = y + size_t(t0 + s) * rows + base;
            if (valid == 8) {
                _mm256_storeu_ps(dst, acc[s]);
            } else if (valid > 0) {
                alignas(32) float tmp[8];
                _mm256_store_ps(tmp, acc[s]);
                for (int r = 0; r < valid; ++r)
                    dst[r] = tmp[r];
            }
        }
    }
}

template <int BITS>
void run_avx512(const qmatrix& w, const qactivations& x, float* y, int g0, int g1)
{
    for (int g = g0; g < g1; ++g) {
        int t = 0;
        for (; t + 8 <= x.n; t += 8)
            tile_avx512<BITS, 8>(w, x, y, g, t);
        switch (x.n - t) {
        case 7: tile_avx512<BITS, 7>(w, x, y, g, t); break;
        case 6: tile_avx512<BITS, 6>(w, x, y, g, t); break;
        case 5: tile_avx512<BITS, 5>(w, x, y, g, t); break;
        case 4: tile_avx512<BITS, 4>(w, x, y, g, t); break;
        case 3: tile_avx512<BITS, 3>(w, x, y, g, t); break;
        case 2: tile_avx512<BITS, 2>(w, x, y, g, t); break;
        case 1: tile_avx512<BITS, 1>(w, x, y, g, t); break;
        default: break;
        }
    }
}

template <int BITS>
void run_avx2(const qmatrix& w, const qactivations& x, float* y, int g0, int g1)
{
    for (int g = g0; g < g1; ++g) {
        int t = 0;
        for (; t + 4 <= x.n; t += 4)
            tile_avx2<BITS, 4>(w, x, y, g, t);
        switch (x.n - t) {
        case 3: tile_avx2<BITS, 3>(w, x, y, g, t); break;
        case 2: tile_avx2<BITS, 2>(w, x, y, g, t); break;
        case 1: tile_avx2<BITS, 1>(w, x, y, g, t); break;
        default: break;
        }
    }
}

#endif // LMSSCC_HAVE_X86_KERNELS

} // namespace

void qmatmul(const qmatrix& w, const qactivations& x, float* y, int g0, int g1, simd_level level)
{
    if (x.cols != w.cols())
        throw std::invalid_argument("qmatmul: activation width does not match the matrix");
    g0 = std::max(g0, 0);
    g1 = std::min(g1, w.groups());
    if (g0 >= g1 || x.n == 0)
        return;
#if LMSSCC_HAVE_X86_KERNELS
    if (level == simd_level::avx512vnni) {
        if (w.bits() == 4)
            run_avx512<4>(w, x, y, g0, g1);
        else
            run_avx512<8>(w, x, y, g0, g1);
        return;
    }
    if (level == simd_level::avx2) {
        if (w.bits() == 4)
            run_avx2<4>(w, x, y, g0, g1);
        else
            run_avx2<8>(w, x, y, g0, g1);
        return;
    }
#else
    (void)level;
#endif
    if (w.bits() == 4)
        kernel_scalar<4>(w, x, y, g0, g1);
    else
        kernel_scalar<8>(w, x, y, g0, g1);
}

void qmatmul_reference(const qmatrix& w, const qactivations& x, float* y)
{
    const int nb = w.blocks();
    for (int t = 0; t < x.n; ++t) {
        for (int r = 0; r < w.rows(); ++r) {
            float acc = 0.0f;
            for (int b = 0; b < nb; ++b) {
                int64_t isum = 0;
                for (int j = 0; j < QBLOCK; ++j)
                    isum += int64_t(w.unit(r, b * QBLOCK + j)) *
                            int64_t(x.q[size_t(t) * x.cols + size_t(b) * QBLOCK + j]);
                const float t1 = w.block_d(r, b) * float(isum);
                const float t2 = w.block_m(r, b) * float(x.sum[size_t(t) * nb + b]);
                const float blk = t1 + t2;
                const float contrib = blk * x.scale[size_t(t) * nb + b];
                acc = acc + contrib;
            }
            y[size_t(t) * w.rows() + r] = acc;
        }
    }
}

/* ---------------------------------------------------------------- own math */

/* exp(x) for floats: 2^k * p(r), r = x - k ln2 (Cody-Waite), p a
 * Taylor polynomial (degree 7); arguments clamped to [-87.3, 88]. Written as array loops
 * with independent lanes, so any vectorization gives the same bits. */
namespace {
LMSSCC_INLINE void exp_core(const float* x, float* y, size_t n)
{
    constexpr size_t CH = 64;
    float kf[CH], p[CH];
    int32_t bits[CH];
    for (size_t base = 0; base < n; base += CH) {
        const size_t len = std::min(CH, n - base);
        for (size_t i = 0; i < len; ++i) {
            float v = x[base + i];
            v = v < -87.3f ? -87.3f : v;
            v = v > 88.0f ? 88.0f : v;
            const float k = round_even(v * 1.44269504088896341f);
            float r = v - k * 0.693359375f;
            r = r - k * -2.12194440e-4f;
            float q = 1.0f / 5040.0f;
            q = q * r + 1.0f / 720.0f;
            q = q * r + 1.0f / 120.0f;
            q = q * r + 1.0f / 24.0f;
            q = q * r + 1.0f / 6.0f;
            q = q * r + 0.5f;
            q = q * r + 1.0f;
            q = q * r + 1.0f;
            kf[i] = k;
            p[i] = q;
        }
        for (size_t i = 0; i < len; ++i)
            bits[i] = (int32_t(kf[i]) + 127) << 23;
        float scale[CH];
        std::memcpy(scale, bits, len * sizeof(float));
        for (size_t i = 0; i < len; ++i)
            y[base + i] = p[i] * scale[i];
    }
}

} // namespace

void engine_exp(const float* x, float* y, size_t n) { exp_core(x, y, n); }

namespace {

/* sin and cos of r, |r| <= pi/4, double precision Taylor polynomials. */
inline double sin_poly(double r)
{
    const double r2 = r * r;
    double s = 1.0 / 6227020800.0;      // 1/13!
    s = s * r2 - 1.0 / 39916800.0;      // 1/11!
    s = s * r2 + 1.0 / 362880.0;        // 1/9!
    s = s * r2 - 1.0 / 5040.0;
    s = s * r2 + 1.0 / 120.0;
    s = s * r2 - 1.0 / 6.0;
    s = s * r2;
    return r + r * s;
}

inline double cos_poly(double r)
{
    const double r2 = r * r;
    double c = 1.0 / 87178291200.0;     // 1/14!
    c = c * r2 - 1.0 / 479001600.0;     // 1/12!
    c = c * r2 + 1.0 / 3628800.0;       // 1/10!
    c = c * r2 - 1.0 / 40320.0;
    c = c * r2 + 1.0 / 720.0;
    c = c * r2 - 1.0 / 24.0;
    c = c * r2 + 0.5;
    return 1.0 - r2 * c;
}

/* x = q * pi/2 + r, |r| <= ~pi/4; three-part Cody-Waite pi/2 (|x| < 2^20). */
inline double reduce_half_pi(double x, int64_t& quadrant)
{
    const double inv = 0.63661977236758134308; // 2/pi
    const double k = std::floor(x * inv + 0.5);
    quadrant = int64_t(k);
    double r = x - k * 1.5707963267341256e+00;
    r = r - k * 6.0771005065061922e-11;
    r = r - k * 2.0222662487959506e-21;
    return r;
}

} // namespace

double engine_sin(double x)
{
    int64_t q;
    const double r = reduce_half_pi(x, q);
    switch (((q % 4) + 4) % 4) {
    case 0: return sin_poly(r);
    case 1: return cos_poly(r);
    case 2: return -sin_poly(r);
    default: return -cos_poly(r);
    }
}

double engine_cos(double x)
{
    int64_t q;
    const double r = reduce_half_pi(x, q);
    switch (((q % 4) + 4) % 4) {
    case 0: return cos_poly(r);
    case 1: return -sin_poly(r);
    case 2: return -cos_poly(r);
    default: return sin_poly(r);
    }
}

/* ---------------------------------------------------------------- thread pool */

namespace {

inline void cpu_relax()
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Persistent workers sharing jobs of `nchunks` independent chunks.
 * run(f, n) calls f(chunk) for chunk = 0..n-1, each exactly once, on whichever
 * thread claims it first (the caller takes part), and returns when all are
 * done. Chunks are claimed from one atomic ticket that carries the job's
 * generation, so a worker that wakes up late never touches a finished job,
 * and the caller never waits for a worker that has not started: on a busy
 * machine the caller simply computes more chunks itself. Which thread
 * computes a chunk never changes its result (chunks are sets of output rows
 * or of (token, head) pairs). Idle workers spin briefly, then sleep. */
class thread_pool
{
public:
    explicit thread_pool(int n) { resize(n); }
    ~thread_pool() { stop_all(); }

    int size() const { return n_; }

    void resize(int n)
    {
        if (n < 1)
            throw std::invalid_argument("threads must be >= 1");
        if (n == n_)
            return;
        stop_all();
        n_ = n;
        stop_ = false;
        for (int i = 1; i < n; ++i)
            workers_.emplace_back([this] { worker(); });
    }

    void run(const std::function<void(int)>& f, int nchunks)
    {
        if (nchunks <= 0)
            return;
        if (n_ == 1 || nchunks == 1) {
            for (int i = 0; i < nchunks; ++i)
                f(i);
            return;
        }
        job_ = &f;
        err_ = nullptr;
        total_.store(uint32_t(nchunks), std::memory_order_relaxed);
        done_.store(0, std::memory_order_relaxed);
        const uint64_t gen = (ticket_.load(std::memory_order_relaxed) >> 32) + 1;
        ticket_.store(gen << 32, std::memory_order_seq_cst); // publishes the job
        if (sleepers_.load(std::memory_order_seq_cst) > 0) {
            std::lock_guard<std::mutex> lock(mu_);
            cv_.notify_all();
        }
        work(gen);
        for (int spins = 0; done_.load(std::memory_order_acquire) != uint32_t(nchunks); ++spins) {
            if (spins < 4000)
                cpu_relax();
            else // a worker holding a chunk lost its core
                std::this_thread::yield();
        }
        job_ = nullptr;
        if (err_)
            std::rethrow_exception(err_);
    }

private:
    /* Claim and run chunks of job `gen` until none is left. */
    void work(uint64_t gen)
    {
        uint64_t t = ticket_.load(std::memory_order_acquire);
        for (;;) {
            if ((t >> 32) != gen || uint32_t(t) >= total_.load(std::memory_order_relaxed))
                return;
            if (!ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel,
                                               std::memory_order_acquire))
                continue;
            try {
                (*job_)(int(uint32_t(t)));
            } catch (...) {
                std::lock_guard<std::mutex> lock(mu_);
                if (!err_)
                    err_ = std::current_exception();
            }
            done_.fetch_add(1, std::memory_order_acq_rel);
            t = ticket_.load(std::memory_order_acquire);
        }
    }

    void worker()
    {
        uint64_t seen = ticket_.load(std::memory_order_acquire) >> 32;
        for (;;) {
            int spins = 0;
            uint64_t g;
            while ((g = ticket_.load(std::memory_order_acquire) >> 32) == seen && !stop_) {
                if (++spins < 20000) {
                    cpu_relax();
                    continue;
                }
                std::unique_lock<std::mutex> lock(mu_);
                sleepers_.fetch_add(1, std::memory_order_seq_cst);
                cv_.wait(lock, [&] {
                    return (ticket_.load(std::memory_order_seq_cst) >> 32) != seen || stop_;
                });
                sleepers_.fetch_sub(1, std::memory_order_seq_cst);
                spins = 0;
            }
            if (stop_)
                return;
            seen = g;
            work(g);
        }
    }

    void stop_all()
    {
        if (workers_.empty())
            return;
        {
            std::lock_guard<std::mutex> lock(mu_);
            stop_ = true;
            cv_.notify_all();
        }
        for (auto& t : workers_)
            t.join();
        workers_.clear();
    }

    int n_ = 0;
    std::vector<std::thread> workers_;
    std::atomic<uint64_t> ticket_{ 0 }; // generation << 32 | next chunk
    std::atomic<uint32_t> total_{ 0 };
    std::atomic<uint32_t> done_{ 0 };
    std::atomic<int> sleepers_{ 0 };
    std::atomic<bool> stop_{ false };
    const std::function<void(int)>* job_ = nullptr;
    std::exception_ptr err_;
    std::mutex mu_;
    std::condition_variable cv_;
};

inline void split(int total, int tid, int nt, int& begin, int& end)
{
    begin = int(int64_t(total) * tid / nt);
    end = int(int64_t(total) * (tid + 1) / nt);
}

/* Fixed-order sum: 16 interleaved partial sums, then a pairwise tree. */
LMSSCC_INLINE float sum16(const float* v, size_t n)
{
    float part[16] = { 0 };
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; ++j)
            part[j] = part[j] + v[i + j];
    for (int j = 0; i < n; ++i, ++j)
        part[j] = part[j] + v[i];
    for (int w = 8; w >= 1; w /= 2)
        for (int j = 0; j < w; ++j)
            part[j] = part[j] + part[j + w];
    return part[0];
}

LMSSCC_INLINE float sumsq16(const float* v, size_t n)
{
    float part[16] = { 0 };
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; ++j)
            part[j] = part[j] + v[i + j] * v[i + j];
    for (int j = 0; i < n; ++i, ++j)
        part[j] = part[j] + v[i] * v[i];
    for (int w = 8; w >= 1; w /= 2)
        for (int j = 0; j < w; ++j)
            part[j] = part[j] + part[j + w];
    return part[0];
}

LMSSCC_CLONES void rmsnorm(const float* x, const float* w, float* y, int n, int dim, float eps)
{
    for (int t = 0; t < n; ++t) {
        const float* xt = x + size_t(t) * dim;
        float* yt = y + size_t(t) * dim;
        const float var = sumsq16(xt, dim) / float(dim);
        const float r = 1.0f / std::sqrt(var + eps);
        for (int i = 0; i < dim; ++i) {
            const float v = xt[i] * r;
            yt[i] = w[i] * v;
        }
    }
}

constexpr int KCHUNK = 16; // positions per K-cache chunk (lanes of the score loop)
// Defaults of llama_engine::set_parallel_min (scheduling only, never results)
constexpr double PARALLEL_MIN_MACS = 1.0e6;  // smaller matrix products stay on one thread
constexpr double PARALLEL_MIN_ATTN = 9.0 * 192; // (positions x heads) below: one thread

/* GCC vector extension types: element-wise IEEE operations, lowered to
 * zmm / ymm / xmm / scalar code by each clone with identical results. */
typedef float v16f __attribute__((vector_size(64), aligned(4)));

/* Attention of nq query heads sharing one KV head, positions 0..T-1, each in
 * fixed order: scores with one position per lane (sequential over the head
 * dimension), softmax with the engine's exp and a fixed-order sum, then the
 * weighted sum of V with one dimension per lane (sequential over positions).
 * Processing heads together or one at a time gives the same bits.
 * K: [chunk][kv head][HD][16]; V: [pos][kv head][HD]; q, out: nq x HD;
 * sc: nq x (T rounded up to 16) floats of scratch. */
/* Scores of M query heads (compile-time) against all positions. */
template <int HD, int M>
LMSSCC_INLINE void qk_pass(const float* __restrict K, int nkv, int kvh, int nchunks,
                           const float* __restrict q, float* __restrict sc, size_t tpad, float scale)
{
    for (int c = 0; c < nchunks; ++c) {
        const float* kc = K + (size_t(c) * nkv + kvh) * size_t(HD) * KCHUNK;
        v16f acc[M];
        for (int i = 0; i < M; ++i)
            acc[i] = v16f{};
        for (int dd = 0; dd < HD; ++dd) {
            const v16f kv = *reinterpret_cast<const v16f*>(kc + size_t(dd) * KCHUNK);
            for (int i = 0; i < M; ++i)
                acc[i] = acc[i] + q[size_t(i) * HD + dd] * kv;
        }
        for (int i = 0; i < M; ++i)
            *reinterpret_cast<v16f*>(sc + size_t(i) * tpad + size_t(c) * KCHUNK) = acc[i] * scale;
    }
}

/* Weighted sum of V for M query heads (compile-time), positions in order. */
template <int HD, int M>
LMSSCC_INLINE void pv_pass(const float* __restrict V, int nkv, int kvh, int T,
                           const float* __restrict sc, size_t tpad, const float* inv,
                           float* __restrict out)
{
    constexpr int NV = HD / 16;
    v16f o[M][NV];
    for (int i = 0; i < M; ++i)
        for (int k = 0; k < NV; ++k)
            o[i][k] = v16f{};
    const size_t vstride = size_t(nkv) * HD;
    for (int t = 0; t < T; ++t) {
        const float* vr = V + size_t(t) * vstride + size_t(kvh) * HD;
        v16f v[NV];
        for (int k = 0; k < NV; ++k)
            v[k] = *reinterpret_cast<const v16f*>(vr + 16 * k);
        for (int i = 0; i < M; ++i) {
            const float p = sc[size_t(i) * tpad + t] * inv[i];
            for (int k = 0; k < NV; ++k)
                o[i][k] = o[i][k] + p * v[k];
        }
    }
    for (int i = 0; i < M; ++i)
        for (int k = 0; k < NV; ++k)
            *reinterpret_cast<v16f*>(out + size_t(i) * HD + 16 * k) = o[i][k];
}

/* Attention of NQ query heads sharing one KV head, positions 0..T-1, each in
 * fixed order: scores with one position per lane (sequential over the head
 * dimension), softmax with the engine's exp and a fixed-order sum, then the
 * weighted sum of V with one dimension per lane (sequential over positions).
 * Processing heads together or one at a time gives the same bits.
 * K: [chunk][kv head][HD][16]; V: [pos][kv head][HD]; q, out: NQ x HD;
 * sc: NQ x (T rounded up to 16) floats of scratch. */
template <int HD, int NQ>
LMSSCC_INLINE void attend_group_t(const float* __restrict K, const float* __restrict V, int nkv,
                                  int kvh, int T, const float* __restrict q,
                                  float* __restrict out, float* __restrict sc)
{
    const int nchunks = (T + KCHUNK - 1) / KCHUNK;
    const size_t tpad = size_t(nchunks) * KCHUNK;
    const float scale = 1.0f / std::sqrt(float(HD));
    constexpr int QKH = NQ <= 4 ? NQ : 4;
    qk_pass<HD, QKH>(K, nkv, kvh, nchunks, q, sc, tpad, scale);
    if (NQ > 4)
        qk_pass<HD, (NQ > 4 ? NQ - 4 : 1)>(K, nkv, kvh, nchunks, q + 4 * HD, sc + 4 * tpad, tpad,
                                          scale);
    float inv[NQ];
    for (int i = 0; i < NQ; ++i) {
        float* s = sc + size_t(i) * tpad;
        float mx = s[0];
        for (int t = 1; t < T; ++t)
            mx = std::max(mx, s[t]);
        for (int t = 0; t < T; ++t)
            s[t] = s[t] - mx;
        exp_core(s, s, size_t(T));
        inv[i] = 1.0f / sum16(s, size_t(T));
    }
    constexpr int PVH = HD <= 64 ? (NQ <= 4 ? NQ : 4) : (NQ <= 2 ? NQ : 2);
    for (int h0 = 0; h0 + PVH <= NQ; h0 += PVH)
        pv_pass<HD, PVH>(V, nkv, kvh, T, sc + size_t(h0) * tpad, tpad, inv + h0,
                         out + size_t(h0) * HD);
    constexpr int REST = NQ % PVH;
    if (REST > 0)
        pv_pass<HD, (REST > 0 ? REST : 1)>(V, nkv, kvh, T, sc + size_t(NQ - REST) * tpad, tpad,
                                           inv + (NQ - REST), out + size_t(NQ - REST) * HD);
}

template <int HD>
LMSSCC_INLINE bool attend_dispatch(const float* K, const float* V, int nkv, int kvh, int T, int nq,
                                   const float* q, float* out, float* sc)
{
    switch (nq) {
    case 1: attend_group_t<HD, 1>(K, V, nkv, kvh, T, q, out, sc); return true;
    case 2: attend_group_t<HD, 2>(K, V, nkv, kvh, T, q, out, sc); return true;
    case 3: attend_group_t<HD, 3>(K, V, nkv, kvh, T, q, out, sc); return true;
    case 4: attend_group_t<HD, 4>(K, V, nkv, kvh, T, q, out, sc); return true;
    case 8: attend_group_t<HD, 8>(K, V, nkv, kvh, T, q, out, sc); return true;
    default: return false;
    }
}

/* Any head dimension (multiple of 16 not specialised): same operation order. */
LMSSCC_INLINE void attend_group_any(const float* K, const float* V, int nkv, int kvh, int hd,
                                    int T, int nq, const float* q, float* out, float* sc)
{
    const int nchunks = (T + KCHUNK - 1) / KCHUNK;
    const size_t tpad = size_t(nchunks) * KCHUNK;
    const float scale = 1.0f / std::sqrt(float(hd));
    for (int i = 0; i < nq; ++i) {
        float* s = sc + size_t(i) * tpad;
        for (int c = 0; c < nchunks; ++c) {
            const float* kc = K + (size_t(c) * nkv + kvh) * size_t(hd) * KCHUNK;
            float acc[KCHUNK];
            for (int j = 0; j < KCHUNK; ++j)
                acc[j] = 0.0f;
            for (int dd = 0; dd < hd; ++dd)
                for (int j = 0; j < KCHUNK; ++j)
                    acc[j] = acc[j] + q[size_t(i) * hd + dd] * kc[size_t(dd) * KCHUNK + j];
            for (int j = 0; j < KCHUNK; ++j)
                s[size_t(c) * KCHUNK + j] = acc[j] * scale;
        }
        float mx = s[0];
        for (int t = 1; t < T; ++t)
            mx = std::max(mx, s[t]);
        for (int t = 0; t < T; ++t)
            s[t] = s[t] - mx;
        exp_core(s, s, size_t(T));
        const float inv = 1.0f / sum16(s, size_t(T));
        float* o = out + size_t(i) * hd;
        for (int dd = 0; dd < hd; ++dd)
            o[dd] = 0.0f;
        for (int t = 0; t < T; ++t) {
            const float p = s[t] * inv;
            const float* vr = V + size_t(t) * nkv * hd + size_t(kvh) * hd;
            for (int dd = 0; dd < hd; ++dd)
                o[dd] = o[dd] + p * vr[dd];
        }
    }
}

LMSSCC_CLONES void attend_group(const float* K, const float* V, int nkv, int kvh, int hd, int T,
                                int nq, const float* q, float* out, float* sc)
{
    if (hd == 64 && attend_dispatch<64>(K, V, nkv, kvh, T, nq, q, out, sc))
        return;
    if (hd == 128 && attend_dispatch<128>(K, V, nkv, kvh, T, nq, q, out, sc))
        return;
    attend_group_any(K, V, nkv, kvh, hd, T, nq, q, out, sc);
}

/* h = silu(gate) * up, silu(g) = g / (1 + exp(-g)); gu rows: [gate; up]. */
LMSSCC_CLONES void silu_mul(const float* gu, int n, int F, float* h, float* tmp)
{
    for (int i = 0; i < n; ++i) {
        const float* g = gu + size_t(i) * 2 * F;
        const float* u = g + F;
        float* hi = h + size_t(i) * F;
        for (int j = 0; j < F; ++j)
            tmp[j] = -g[j];
        exp_core(tmp, tmp, size_t(F));
        for (int j = 0; j < F; ++j) {
            const float s = g[j] / (1.0f + tmp[j]);
            hi[j] = s * u[j];
        }
    }
}

} // namespace

/* ---------------------------------------------------------------- engine */

struct llama_engine::impl {
    llama_config cfg;
    int head_dim = 0, kv_dim = 0, qkv_rows = 0;
    simd_level simd = simd_level::scalar;
    thread_pool pool{ 1 };
    mutable std::mutex api_mu; // one call at a time (GNU Radio blocks run in threads)
    double par_min_macs = PARALLEL_MIN_MACS;
    double par_min_attn = PARALLEL_MIN_ATTN;

    qmatrix embd, output;
    bool have_embd = false, have_output = false;
    std::vector<float> out_norm;
    std::vector<llama_layer> layers;
    std::vector<bool> layer_set;

    struct stream_state {
        bool live = false;
        int pos = 0;
        std::vector<std::vector<float>> k; // per layer: [chunk][kvh][hd][16]
        std::vector<std::vector<float>> v; // per layer: [t][kvh][hd]
    };
    std::vector<stream_state> streams;

    // RoPE table: [pos][head_dim/2] cos, sin
    std::vector<float> rope_cos, rope_sin;
    std::vector<double> inv_freq;
    int rope_rows = 0;

    struct scratch {
        std::vector<float> X, XN, QKV, ATT, TMP, GU, H, EXPB, logits;
        std::vector<int> ids, toks, pos;
        qactivations qa;
    };
    std::vector<scratch> scr{ 1 }; // one per parallel forward
    void forward(const int* sids, const int* tokens, const int* pos, int n, float* logits,
                 scratch& S, bool use_pool);

    void check_stream(int id) const
    {
        if (id < 0 || id >= int(streams.size()) || !streams[size_t(id)].live)
            throw std::invalid_argument("no such stream: " + std::to_string(id));
    }

    void ensure_rope(int npos)
    {
        const int half = head_dim / 2;
        if (inv_freq.empty()) {
            /* theta^(-2i/head_dim) = a^i with a = theta^(-2/head_dim), the
             * root of a^(head_dim/2) = 1/theta found by a fixed number of
             * Newton steps (plain IEEE double arithmetic, no libm). */
            const double c = 1.0 / double(cfg.rope_theta);
            const int p = half;
            double a = 1.0;
            for (int it = 0; it < 200; ++it) {
                double ap1 = 1.0; // a^(p-1)
                for (int j = 0; j < p - 1; ++j)
                    ap1 *= a;
                const double f = ap1 * a - c;
                a = a - f / (double(p) * ap1);
            }
            inv_freq.resize(size_t(half));
            double f = 1.0;
            for (int i = 0; i < half; ++i) {
                inv_freq[size_t(i)] = f;
                f *= a;
            }
        }
        if (npos <= rope_rows)
            return;
        int target = std::max(npos, std::min(cfg.n_ctx_max, std::max(2 * rope_rows, 256)));
        rope_cos.resize(size_t(target) * half);
        rope_sin.resize(size_t(target) * half);
        for (int p = rope_rows; p < target; ++p)
            for (int i = 0; i < half; ++i) {
                const double angle = double(p) * inv_freq[size_t(i)];
                rope_cos[size_t(p) * half + i] = float(engine_cos(angle));
                rope_sin[size_t(p) * half + i] = float(engine_sin(angle));
            }
        rope_rows = target;
    }

    void rope(float* x, int pos) const
    {
        const int half = head_dim / 2;
        const float* c = rope_cos.data() + size_t(pos) * half;
        const float* s = rope_sin.data() + size_t(pos) * half;
        for (int i = 0; i < half; ++i) {
            const float x0 = x[2 * i], x1 = x[2 * i + 1];
            const float a = x0 * c[i], b = x1 * s[i];
            const float e = x0 * s[i], f = x1 * c[i];
            x[2 * i] = a - b;
            x[2 * i + 1] = e + f;
        }
    }

    void matmul(const qmatrix& w, const qactivations& x, float* y, bool use_pool)
    {
        const int G = w.groups();
        const simd_level level = simd;
        // Small products run on the calling thread: every hand-over costs a
        // synchronisation, which is expensive on a busy machine. Otherwise
        // chunks of row groups, finer than the thread count, so that a thread
        // that is descheduled delays little (see thread_pool). Neither choice
        // changes any result.
        const double macs = double(x.n) * double(w.rows()) * double(w.cols());
        const bool parallel = use_pool && pool.size() > 1 && macs >= par_min_macs;
        const int nchunks = parallel ? std::min(G, 8 * pool.size()) : 1;
        pool.run(
            [&](int chunk) {
                int g0, g1;
                split(G, chunk, nchunks, g0, g1);
                qmatmul(w, x, y, g0, g1, level);
            },
            nchunks);
    }

};

llama_engine::llama_engine(const llama_config& c, int threads, simd_level level) : d_(new impl)
{
    if (c.n_layer <= 0 || c.n_embd <= 0 || c.n_head <= 0 || c.n_head_kv <= 0 || c.n_ff <= 0 ||
        c.n_vocab <= 0)
        throw std::invalid_argument("llama_engine: bad config");
    if (c.n_embd % c.n_head != 0 || c.n_head % c.n_head_kv != 0)
        throw std::invalid_argument("llama_engine: heads do not divide the model width");
    if (c.n_embd % QBLOCK != 0 || c.n_ff % QBLOCK != 0)
        throw std::invalid_argument("llama_engine: widths must be multiples of 32");
    if ((c.n_embd / c.n_head) % 2 != 0)
        throw std::invalid_argument("llama_engine: head dimension must be even");
    d_->cfg = c;
    d_->head_dim = c.n_embd / c.n_head;
    d_->kv_dim = d_->head_dim * c.n_head_kv;
    d_->qkv_rows = c.n_embd + 2 * d_->kv_dim;
    d_->layers.resize(size_t(c.n_layer));
    d_->layer_set.assign(size_t(c.n_layer), false);
    set_simd(level);
    set_threads(threads);
}

llama_engine::~llama_engine() = default;

const llama_config& llama_engine::config() const { return d_->cfg; }

void llama_engine::set_token_embedding(const qmatrix& e)
{
    if (e.rows() != d_->cfg.n_vocab || e.cols() != d_->cfg.n_embd)
        throw std::invalid_argument("token embedding must be n_vocab x n_embd");
    d_->embd = e;
    d_->have_embd = true;
}

void llama_engine::set_output(const qmatrix& o)
{
    if (o.rows() != d_->cfg.n_vocab || o.cols() != d_->cfg.n_embd)
        throw std::invalid_argument("output matrix must be n_vocab x n_embd");
    d_->output = o;
    d_->have_output = true;
}

void llama_engine::set_output_norm(const std::vector<float>& w)
{
    if (int(w.size()) != d_->cfg.n_embd)
        throw std::invalid_argument("output norm must have n_embd weights");
    d_->out_norm = w;
}

void llama_engine::set_layer(int index, const llama_layer& L)
{
    const llama_config& c = d_->cfg;
    if (index < 0 || index >= c.n_layer)
        throw std::out_of_range("layer index out of range");
    auto shape = [](const qmatrix& m, int r, int k, const char* what) {
        if (m.rows() != r || m.cols() != k)
            throw std::invalid_argument(std::string("layer matrix ") + what + " has the wrong shape");
    };
    shape(L.wqkv, d_->qkv_rows, c.n_embd, "wqkv");
    shape(L.wo, c.n_embd, c.n_embd, "wo");
    shape(L.w_gate_up, 2 * c.n_ff, c.n_embd, "w_gate_up");
    shape(L.w_down, c.n_embd, c.n_ff, "w_down");
    if (int(L.attn_norm.size()) != c.n_embd || int(L.ffn_norm.size()) != c.n_embd)
        throw std::invalid_argument("layer norms must have n_embd weights");
    d_->layers[size_t(index)] = L;
    d_->layer_set[size_t(index)] = true;
}

bool llama_engine::ready() const
{
    if (!d_->have_embd || d_->out_norm.empty())
        return false;
    for (bool b : d_->layer_set)
        if (!b)
            return false;
    return true;
}

int llama_engine::new_stream()
{
    std::lock_guard<std::mutex> api_lock(d_->api_mu);
    auto& ss = d_->streams;
    size_t id = 0;
    while (id < ss.size() && ss[id].live)
        ++id;
    if (id == ss.size())
        ss.emplace_back();
    auto& st = ss[id];
    st.live = true;
    st.pos = 0;
    st.k.assign(size_t(d_->cfg.n_layer), {});
    st.v.assign(size_t(d_->cfg.n_layer), {});
    return int(id);
}

void llama_engine::free_stream(int id)
{
    std::lock_guard<std::mutex> api_lock(d_->api_mu);
    d_->check_stream(id);
    auto& st = d_->streams[size_t(id)];
    st.live = false;
    st.pos = 0;
    st.k.clear();
    st.v.clear();
    st.k.shrink_to_fit();
    st.v.shrink_to_fit();
}

int llama_engine::copy_stream(int src)
{
    std::lock_guard<std::mutex> api_lock(d_->api_mu);
    d_->check_stream(src);
    auto& ss = d_->streams;
    size_t id = 0;
    while (id < ss.size() && ss[id].live)
        ++id;
    if (id == ss.size())
        ss.emplace_back(); // may reallocate: index, never hold references across it
    ss[id].live = true;
    ss[id].pos = ss[size_t(src)].pos;
    ss[id].k = ss[size_t(src)].k;
    ss[id].v = ss[size_t(src)].v;
    return int(id);
}

void llama_engine::reset_stream(int id)
{
    std::lock_guard<std::mutex> api_lock(d_->api_mu);
    d_->check_stream(id);
    auto& st = d_->streams[size_t(id)];
    st.pos = 0;
    st.k.assign(size_t(d_->cfg.n_layer), {});
    st.v.assign(size_t(d_->cfg.n_layer), {});
}

int llama_engine::stream_position(int id) const
{
    std::lock_guard<std::mutex> api_lock(d_->api_mu);
    d_->check_stream(id);
    return d_->streams[size_t(id)].pos;
}

int llama_engine::live_streams() const
{
    std::lock_guard<std::mutex> api_lock(d_->api_mu);
    int n = 0;
    for (const auto& s : d_->streams)
        n += s.live ? 1 : 0;
    return n;
}

void llama_engine::set_threads(int threads)
{
    std::lock_guard<std::mutex> api_lock(d_->api_mu);
    if (threads < 1 || threads > 256)
        throw std::invalid_argument("threads must be in [1, 256]");
    d_->pool.resize(threads);
}

int llama_engine::threads() const { return d_->pool.size(); }

void llama_engine::set_parallel_min(double macs, double attention)
{
    std::lock_guard<std::mutex> api_lock(d_->api_mu);
    d_->par_min_macs = std::max(0.0, macs);
    d_->par_min_attn = std::max(0.0, attention);
}

void llama_engine::set_simd(simd_level level)
{
    std::lock_guard<std::mutex> api_lock(d_->api_mu);
    if (!simd_supported(level))
        throw std::invalid_argument(std::string("SIMD path ") + simd_name(level) +
                                    " is not available in this build or on this CPU");
    d_->simd = level;
}

simd_level llama_engine::simd() const { return d_->simd; }

size_t llama_engine::weight_bytes() const
{
    size_t n = d_->embd.bytes() + (d_->have_output ? d_->output.bytes() : 0);
    for (const auto& L : d_->layers)
        n += L.wqkv.bytes() + L.wo.bytes() + L.w_gate_up.bytes() + L.w_down.bytes();
    return n;
}

size_t llama_engine::cache_bytes() const
{
    std::lock_guard<std::mutex> api_lock(d_->api_mu);
    size_t n = 0;
    for (const auto& s : d_->streams)
        for (size_t l = 0; l < s.k.size(); ++l)
            n += (s.k[l].capacity() + s.v[l].capacity()) * sizeof(float);
    return n;
}

/* The forward pass of n entries (token i into stream sids[i] at position
 * pos[i]; caches already sized, RoPE table ready) into logits (n x vocab).
 * use_pool: split products and attention over the pool's threads; false when
 * the caller already runs several forwards in parallel (one per thread). */
void llama_engine::impl::forward(const int* sids, const int* tokens, const int* pos, int n,
                                 float* logits, scratch& S, bool use_pool)
{
    impl& E = *this;
    const llama_config& c = E.cfg;
    const int D = c.n_embd, HD = E.head_dim, KVD = E.kv_dim, F = c.n_ff, NH = c.n_head;
    const int NKV = c.n_head_kv;
    const size_t N = size_t(n);
    S.X.resize(N * D);
    S.XN.resize(N * D);
    S.QKV.resize(N * E.qkv_rows);
    S.ATT.resize(N * D);
    S.TMP.resize(N * D);
    S.GU.resize(N * 2 * F);
    S.H.resize(N * F);
    S.EXPB.resize(size_t(F));

    for (int i = 0; i < n; ++i)
        E.embd.dequantize_row(tokens[i], S.X.data() + size_t(i) * D);

    for (int l = 0; l < c.n_layer; ++l) {
        const llama_layer& L = E.layers[size_t(l)];
        rmsnorm(S.X.data(), L.attn_norm.data(), S.XN.data(), n, D, c.rms_eps);
        quantize_activations(S.XN.data(), n, D, S.qa);
        E.matmul(L.wqkv, S.qa, S.QKV.data(), use_pool);
        for (int i = 0; i < n; ++i) {
            float* row = S.QKV.data() + size_t(i) * E.qkv_rows;
            for (int h = 0; h < NH; ++h)
                E.rope(row + size_t(h) * HD, pos[i]);
            for (int h = 0; h < NKV; ++h)
                E.rope(row + D + size_t(h) * HD, pos[i]);
            auto& st = E.streams[size_t(sids[i])];
            const int p = pos[i];
            float* kc = st.k[size_t(l)].data() + size_t(p / KCHUNK) * NKV * HD * KCHUNK;
            for (int h = 0; h < NKV; ++h)
                for (int dd = 0; dd < HD; ++dd)
                    kc[(size_t(h) * HD + dd) * KCHUNK + p % KCHUNK] = row[D + h * HD + dd];
            std::memcpy(st.v[size_t(l)].data() + size_t(p) * KVD, row + D + KVD,
                        sizeof(float) * KVD);
        }
        // tasks: (token, KV head) with its query heads together, or single
        // query heads when there are too few tasks for the threads; the
        // result is the same either way
        const int group = NH / NKV;
        const int per =
            group <= 8 && (!use_pool || n * NKV >= 2 * E.pool.size() || E.pool.size() == 1)
                ? group
                : 1;
        const int tasks = n * NH / per;
        double attn_work = 0.0;
        for (int i = 0; i < n; ++i)
            attn_work += double(pos[i] + 1) * NH;
        const std::function<void(int)> attend_task = [&](int task) {
                thread_local std::vector<float> sc;
                const int i = task / (NH / per), h = (task % (NH / per)) * per;
                const auto& st = E.streams[size_t(sids[i])];
                const int T = pos[i] + 1;
                sc.resize(size_t(per) * size_t((T + KCHUNK - 1) / KCHUNK) * KCHUNK);
                attend_group(st.k[size_t(l)].data(), st.v[size_t(l)].data(), NKV, h / group, HD,
                             T, per, S.QKV.data() + size_t(i) * E.qkv_rows + size_t(h) * HD,
                             S.ATT.data() + size_t(i) * D + size_t(h) * HD, sc.data());
        };
        if (use_pool && attn_work >= E.par_min_attn)
            E.pool.run(attend_task, tasks);
        else
            for (int task = 0; task < tasks; ++task)
                attend_task(task);
        quantize_activations(S.ATT.data(), n, D, S.qa);
        E.matmul(L.wo, S.qa, S.TMP.data(), use_pool);
        for (size_t j = 0; j < N * D; ++j)
            S.X[j] = S.X[j] + S.TMP[j];

        rmsnorm(S.X.data(), L.ffn_norm.data(), S.XN.data(), n, D, c.rms_eps);
        quantize_activations(S.XN.data(), n, D, S.qa);
        E.matmul(L.w_gate_up, S.qa, S.GU.data(), use_pool);
        silu_mul(S.GU.data(), n, F, S.H.data(), S.EXPB.data());
        quantize_activations(S.H.data(), n, F, S.qa);
        E.matmul(L.w_down, S.qa, S.TMP.data(), use_pool);
        for (size_t j = 0; j < N * D; ++j)
            S.X[j] = S.X[j] + S.TMP[j];
    }
    rmsnorm(S.X.data(), E.out_norm.data(), S.XN.data(), n, D, c.rms_eps);
    quantize_activations(S.XN.data(), n, D, S.qa);
    E.matmul(E.have_output ? E.output : E.embd, S.qa, logits, use_pool);

}

void llama_engine::step(const int* sids, const int* tokens, int n, float* logits)
{
    std::lock_guard<std::mutex> api_lock(d_->api_mu);
    impl& E = *d_;
    const llama_config& c = E.cfg;
    if (!ready())
        throw std::runtime_error("llama_engine: weights not fully loaded");
    if (n <= 0)
        return;
    const int HD = E.head_dim, KVD = E.kv_dim;
    const int NKV = c.n_head_kv;

    // Positions of the entries; validate before touching any state.
    std::vector<int> pos(static_cast<size_t>(n));
    std::unordered_map<int, int> count;
    for (int i = 0; i < n; ++i) {
        E.check_stream(sids[i]);
        if (tokens[i] < 0 || tokens[i] >= c.n_vocab)
            throw std::invalid_argument("token " + std::to_string(tokens[i]) +
                                        " outside the vocabulary");
        const int p = E.streams[size_t(sids[i])].pos + count[sids[i]]++;
        if (p >= c.n_ctx_max)
            throw std::length_error("stream exceeds the engine's context of " +
                                    std::to_string(c.n_ctx_max) + " tokens");
        pos[size_t(i)] = p;
    }
    int maxpos = 0;
    for (int p : pos)
        maxpos = std::max(maxpos, p);
    E.ensure_rope(maxpos + 1);
    for (const auto& kv : count) {
        auto& st = E.streams[size_t(kv.first)];
        const int len = st.pos + kv.second;
        const size_t chunks = size_t((len + KCHUNK - 1) / KCHUNK);
        for (int l = 0; l < c.n_layer; ++l) {
            st.k[size_t(l)].resize(chunks * size_t(NKV) * HD * KCHUNK, 0.0f);
            st.v[size_t(l)].resize(size_t(len) * KVD, 0.0f);
        }
    }

    // Several streams and threads: each thread runs the whole forward pass
    // for its own streams (one hand-over per step, robust on a busy
    // machine); one stream: its products and attention are split instead.
    // Both give the same bits: an entry's logits do not depend on its
    // batch-mates.
    const int nstreams = int(count.size());
    const int ngroups = std::min(E.pool.size(), nstreams);
    if (E.scr.size() < size_t(std::max(ngroups, 1)))
        E.scr.resize(size_t(std::max(ngroups, 1)));
    if (ngroups <= 1) {
        E.forward(sids, tokens, pos.data(), n, logits, E.scr[0], true);
    } else {
        // streams to groups, balancing entry counts (in order of appearance)
        std::unordered_map<int, int> group_of;
        std::vector<int> load(size_t(ngroups), 0);
        std::vector<std::vector<int>> members(static_cast<size_t>(ngroups));
        for (int i = 0; i < n; ++i) {
            auto it = group_of.find(sids[i]);
            if (it == group_of.end()) {
                const int g = int(std::min_element(load.begin(), load.end()) - load.begin());
                it = group_of.emplace(sids[i], g).first;
                load[size_t(g)] += count[sids[i]];
            }
            members[size_t(it->second)].push_back(i);
        }
        E.pool.run(
            [&](int g) {
                const auto& idx = members[size_t(g)];
                const int m = int(idx.size());
                impl::scratch& S = E.scr[size_t(g)];
                S.ids.resize(size_t(m));
                S.toks.resize(size_t(m));
                S.pos.resize(size_t(m));
                S.logits.resize(size_t(m) * size_t(c.n_vocab));
                for (int k = 0; k < m; ++k) {
                    S.ids[size_t(k)] = sids[idx[size_t(k)]];
                    S.toks[size_t(k)] = tokens[idx[size_t(k)]];
                    S.pos[size_t(k)] = pos[size_t(idx[size_t(k)])];
                }
                E.forward(S.ids.data(), S.toks.data(), S.pos.data(), m, S.logits.data(), S, false);
                for (int k = 0; k < m; ++k)
                    std::memcpy(logits + size_t(idx[size_t(k)]) * c.n_vocab,
                                S.logits.data() + size_t(k) * c.n_vocab,
                                sizeof(float) * size_t(c.n_vocab));
            },
            ngroups);
    }

    for (const auto& kv : count)
        E.streams[size_t(kv.first)].pos += kv.second;
}

} // namespace lmsscc
} // namespace gr
