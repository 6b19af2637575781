// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* gr-lmsscc engine: the matrix product entry point, which picks the kernel of
 * the requested SIMD path (engine_kernels.h), and the written-out definition
 * the kernels are tested against. */

#include "engine_kernels.h"
#include "llama_engine_internal.h"
#include <algorithm>
#include <stdexcept>

namespace gr {
namespace lmsscc {

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
        detail::qmatmul_avx512vnni(w, x, y, g0, g1);
        return;
    }
    if (level == simd_level::avx2) {
        detail::qmatmul_avx2(w, x, y, g0, g1);
        return;
    }
#else
    (void)level;
#endif
    detail::qmatmul_scalar(w, x, y, g0, g1);
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

} // namespace lmsscc
} // namespace gr
