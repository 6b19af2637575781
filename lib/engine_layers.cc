// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* gr-lmsscc engine: the float parts of a layer; see engine_layers.h. */

#include "engine_layers.h"
#include "engine_arch.h"
#include "engine_math.h"
#include <algorithm>
#include <cmath>
#include <cstddef>

namespace gr {
namespace lmsscc {
namespace detail {

/* The target clones have internal linkage, each called by a plain function:
 * GCC exports the resolver of an external clone set from the shared library
 * whatever its visibility. */
namespace {

LMSSCC_CLONES void rmsnorm_impl(const float* x, const float* w, float* y, int n, int dim, float eps)
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

/* GCC vector extension types: element-wise IEEE operations, lowered to
 * zmm / ymm / xmm / scalar code by each clone with identical results. */
typedef float v16f __attribute__((vector_size(64), aligned(4)));

/* s[t] = exp(s[t] - max s) for t < T; returns 1 / sum of them (the softmax
 * is s[t] times that, taken where the weights are used). */
LMSSCC_INLINE float softmax_unscaled(float* s, int T)
{
    float mx = s[0];
    for (int t = 1; t < T; ++t)
        mx = std::max(mx, s[t]);
    for (int t = 0; t < T; ++t)
        s[t] = s[t] - mx;
    exp_core(s, s, size_t(T));
    return 1.0f / sum16(s, size_t(T));
}

/* Scores of M query heads (compile-time) against all positions. */
template <int HD, int M>
LMSSCC_INLINE void qk_pass(const float* __restrict K, int nkv, int kvh, int nchunks,
                           const float* __restrict q, float* __restrict sc, size_t tpad,
                           float scale)
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
                                  int kvh, int T, const float* __restrict q, float* __restrict out,
                                  float* __restrict sc)
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
        inv[i] = softmax_unscaled(sc + size_t(i) * tpad, T);
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
    case 1:
        attend_group_t<HD, 1>(K, V, nkv, kvh, T, q, out, sc);
        return true;
    case 2:
        attend_group_t<HD, 2>(K, V, nkv, kvh, T, q, out, sc);
        return true;
    case 3:
        attend_group_t<HD, 3>(K, V, nkv, kvh, T, q, out, sc);
        return true;
    case 4:
        attend_group_t<HD, 4>(K, V, nkv, kvh, T, q, out, sc);
        return true;
    case 8:
        attend_group_t<HD, 8>(K, V, nkv, kvh, T, q, out, sc);
        return true;
    default:
        return false;
    }
}

/* Any head dimension (multiple of 16 not specialised): same operation order. */
LMSSCC_INLINE void attend_group_any(const float* K, const float* V, int nkv, int kvh, int hd, int T,
                                    int nq, const float* q, float* out, float* sc)
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
        const float inv = softmax_unscaled(s, T);
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

LMSSCC_CLONES void attend_group_impl(const float* K, const float* V, int nkv, int kvh, int hd,
                                     int T, int nq, const float* q, float* out, float* sc)
{
    if (hd == 64 && attend_dispatch<64>(K, V, nkv, kvh, T, nq, q, out, sc))
        return;
    if (hd == 128 && attend_dispatch<128>(K, V, nkv, kvh, T, nq, q, out, sc))
        return;
    attend_group_any(K, V, nkv, kvh, hd, T, nq, q, out, sc);
}

LMSSCC_CLONES void silu_mul_impl(const float* gu, int n, int F, float* h, float* tmp)
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

void rmsnorm(const float* x, const float* w, float* y, int n, int dim, float eps)
{
    rmsnorm_impl(x, w, y, n, dim, eps);
}

void attend_group(const float* K, const float* V, int nkv, int kvh, int hd, int T, int nq,
                  const float* q, float* out, float* sc)
{
    attend_group_impl(K, V, nkv, kvh, hd, T, nq, q, out, sc);
}

void silu_mul(const float* gu, int n, int F, float* h, float* tmp)
{
    silu_mul_impl(gu, n, F, h, tmp);
}

} // namespace detail
} // namespace lmsscc
} // namespace gr
