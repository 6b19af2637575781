// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* gr-lmsscc engine: the portable matrix product kernel (any CPU; the only one
 * on aarch64). It reads the interleaved chunk layout directly and runs, row
 * by row, the operation sequence of the definition (qmatmul_reference). */

#include "engine_kernels.h"

namespace gr {
namespace lmsscc {
namespace detail {

namespace {

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

} // namespace

void qmatmul_scalar(const qmatrix& w, const qactivations& x, float* y, int g0, int g1)
{
    if (w.bits() == 4)
        kernel_scalar<4>(w, x, y, g0, g1);
    else
        kernel_scalar<8>(w, x, y, g0, g1);
}

} // namespace detail
} // namespace lmsscc
} // namespace gr
