// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* gr-lmsscc engine: the AVX-512 VNNI matrix product kernel. Compiled with
 * -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mavx2 -mf16c (lib/CMakeLists.txt)
 * and called only when the running CPU has all of them (engine_matmul.cc).
 * Everything but the entry point has internal linkage, so no code built for
 * these instructions can be picked by the linker for another file's use. */

#include "engine_kernels.h"

#if LMSSCC_HAVE_X86_KERNELS

/* GCC 12 warns inside its own AVX-512 headers (_mm512_undefined_*). */
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <algorithm>
#include <immintrin.h>

namespace gr {
namespace lmsscc {
namespace detail {

namespace {

/* AVX-512 VNNI: one zmm = 16 rows x 4 columns; vpdpbusd(u8 weights, s8 x)
 * accumulates exact int32 block sums per row, x broadcast 4 bytes at a time. */
template <int BITS, int NT>
void tile_avx512(const qmatrix& w, const qactivations& x, float* y, int g, int t0)
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
            acc[s] =
                _mm512_add_ps(acc[s], _mm512_mul_ps(blk, _mm512_set1_ps(x.scale[tt * nb + b])));
        }
    }
    const int base = g * QGROUP;
    const int valid = std::min(QGROUP, rows - base);
    const __mmask16 mask = valid == QGROUP ? __mmask16(0xffff) : __mmask16((1u << valid) - 1u);
    for (int s = 0; s < NT; ++s)
        _mm512_mask_storeu_ps(y + size_t(t0 + s) * rows + base, mask, acc[s]);
}

template <int BITS>
void run_avx512(const qmatrix& w, const qactivations& x, float* y, int g0, int g1)
{
    for (int g = g0; g < g1; ++g) {
        int t = 0;
        for (; t + 8 <= x.n; t += 8)
            tile_avx512<BITS, 8>(w, x, y, g, t);
        switch (x.n - t) {
        case 7:
            tile_avx512<BITS, 7>(w, x, y, g, t);
            break;
        case 6:
            tile_avx512<BITS, 6>(w, x, y, g, t);
            break;
        case 5:
            tile_avx512<BITS, 5>(w, x, y, g, t);
            break;
        case 4:
            tile_avx512<BITS, 4>(w, x, y, g, t);
            break;
        case 3:
            tile_avx512<BITS, 3>(w, x, y, g, t);
            break;
        case 2:
            tile_avx512<BITS, 2>(w, x, y, g, t);
            break;
        case 1:
            tile_avx512<BITS, 1>(w, x, y, g, t);
            break;
        default:
            break;
        }
    }
}

} // namespace

void qmatmul_avx512vnni(const qmatrix& w, const qactivations& x, float* y, int g0, int g1)
{
    if (w.bits() == 4)
        run_avx512<4>(w, x, y, g0, g1);
    else
        run_avx512<8>(w, x, y, g0, g1);
}

} // namespace detail
} // namespace lmsscc
} // namespace gr

#endif // LMSSCC_HAVE_X86_KERNELS
