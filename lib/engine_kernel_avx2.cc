// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* gr-lmsscc engine: the AVX2 matrix product kernel. Compiled with -mavx2
 * -mf16c (lib/CMakeLists.txt) and called only when the running CPU has both
 * (engine_matmul.cc). Everything but the entry point has internal linkage, so
 * no code built for these instructions can be picked by the linker for
 * another file's use. */

#include "engine_kernels.h"

#if LMSSCC_HAVE_X86_KERNELS

#include <algorithm>
#include <immintrin.h>

namespace gr {
namespace lmsscc {
namespace detail {

namespace {

/* AVX2: one ymm = 8 rows x 4 columns (each group in two halves);
 * vpmaddubsw + vpmaddwd give exact int32 sums (no saturation: 4-bit units
 * are <= 15; 8-bit units are turned back into signed q and multiplied with
 * the sign trick, |q| <= 128, |x| <= 127). */
template <int BITS, int NT>
void tile_avx2(const qmatrix& w, const qactivations& x, float* y, int g, int t0)
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
            const __m256 d =
                _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(c + qb + 16 * h)));
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
                acc[s] =
                    _mm256_add_ps(acc[s], _mm256_mul_ps(blk, _mm256_set1_ps(x.scale[tt * nb + b])));
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
void run_avx2(const qmatrix& w, const qactivations& x, float* y, int g0, int g1)
{
    for (int g = g0; g < g1; ++g) {
        int t = 0;
        for (; t + 4 <= x.n; t += 4)
            tile_avx2<BITS, 4>(w, x, y, g, t);
        switch (x.n - t) {
        case 3:
            tile_avx2<BITS, 3>(w, x, y, g, t);
            break;
        case 2:
            tile_avx2<BITS, 2>(w, x, y, g, t);
            break;
        case 1:
            tile_avx2<BITS, 1>(w, x, y, g, t);
            break;
        default:
            break;
        }
    }
}

} // namespace

void qmatmul_avx2(const qmatrix& w, const qactivations& x, float* y, int g0, int g1)
{
    if (w.bits() == 4)
        run_avx2<4>(w, x, y, g0, g1);
    else
        run_avx2<8>(w, x, y, g0, g1);
}

} // namespace detail
} // namespace lmsscc
} // namespace gr

#endif // LMSSCC_HAVE_X86_KERNELS
