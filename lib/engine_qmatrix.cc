// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* gr-lmsscc engine: block-quantized weight matrices (from GGUF Q4_1 / Q8_0
 * blocks, or quantized from floats) in the kernels' interleaved layout, and
 * the per-token int8 quantization of activations. */

#include <gnuradio/lmsscc/llama_engine.h>
#include "engine_arch.h"
#include "engine_kernels.h"
#include "engine_math.h"
#include "llama_engine_internal.h"
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

namespace gr {
namespace lmsscc {

using detail::quant_bytes;
using detail::round_even;
using detail::SCALE_BYTES;

/* ---------------------------------------------------------------- qmatrix */

namespace {

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

LMSSCC_CLONES void quantize_rows(const float* x, int n, int cols, int8_t* qout, float* scale,
                                 int32_t* sums)
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

} // namespace lmsscc
} // namespace gr
