// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* The block-quantized matrix product, one implementation per instruction set
 * (private header of lib/): engine_kernel_scalar.cc (portable C++),
 * engine_kernel_avx2.cc and engine_kernel_avx512.cc (x86, each compiled with
 * its own -m flags and called only when the running CPU has them; see
 * engine_matmul.cc). Every one assigns one output row per lane and runs the
 * definition's exact operation sequence, so all give the same bits. */
#ifndef INCLUDED_LMSSCC_ENGINE_KERNELS_H
#define INCLUDED_LMSSCC_ENGINE_KERNELS_H

#include "engine_arch.h"
#include "llama_engine_internal.h"
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace gr {
namespace lmsscc {
namespace detail {

/* Chunk layout of a qmatrix: the 16 x 32 integers, then 16 d and 16 m halves. */
constexpr size_t SCALE_BYTES = 2 * QGROUP * sizeof(uint16_t);
constexpr size_t quant_bytes(int bits) { return size_t(QGROUP) * QBLOCK * size_t(bits) / 8; }

inline int32_t load_i32(const int8_t* p)
{
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

/* y[t*rows + r] for row groups [g0, g1), all tokens; arguments checked by qmatmul. */
void qmatmul_scalar(const qmatrix& w, const qactivations& x, float* y, int g0, int g1);
#if LMSSCC_HAVE_X86_KERNELS
void qmatmul_avx2(const qmatrix& w, const qactivations& x, float* y, int g0, int g1);
void qmatmul_avx512vnni(const qmatrix& w, const qactivations& x, float* y, int g0, int g1);
#endif

} // namespace detail
} // namespace lmsscc
} // namespace gr

#endif
