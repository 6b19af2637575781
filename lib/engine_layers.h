// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* The float parts of a Llama layer (private header of lib/;
 * engine_layers.cc): RMSNorm, attention over a stream's KV cache and the
 * SiLU-gated feed-forward product. Each is plain C++ in one fixed operation
 * order, compiled as target clones for several ISAs (engine_arch.h) with
 * identical results. */
#ifndef INCLUDED_LMSSCC_ENGINE_LAYERS_H
#define INCLUDED_LMSSCC_ENGINE_LAYERS_H

namespace gr {
namespace lmsscc {
namespace detail {

constexpr int KCHUNK = 16; // positions per K-cache chunk (lanes of the score loop)

/* y = w * x / rms(x) for n rows of dim values. */
void rmsnorm(const float* x, const float* w, float* y, int n, int dim, float eps);

/* Attention of nq query heads sharing one KV head, positions 0..T-1, each in
 * fixed order: scores with one position per lane (sequential over the head
 * dimension), softmax with the engine's exp and a fixed-order sum, then the
 * weighted sum of V with one dimension per lane (sequential over positions).
 * Processing heads together or one at a time gives the same bits.
 * K: [chunk][kv head][hd][16]; V: [pos][kv head][hd]; q, out: nq x hd;
 * sc: nq x (T rounded up to 16) floats of scratch. */
void attend_group(const float* K, const float* V, int nkv, int kvh, int hd, int T, int nq,
                  const float* q, float* out, float* sc);

/* h = silu(gate) * up, silu(g) = g / (1 + exp(-g)); gu rows: [gate; up];
 * tmp: F floats of scratch. */
void silu_mul(const float* gu, int n, int F, float* h, float* tmp);

} // namespace detail
} // namespace lmsscc
} // namespace gr

#endif
