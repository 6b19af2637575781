// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* The engine's own float arithmetic, inlined into every file (and every
 * target clone) that uses it: round half to even, exp, fixed-order sums.
 * Private header of lib/. Written as array loops with independent lanes, so
 * any vectorization gives the same bits. */
#ifndef INCLUDED_LMSSCC_ENGINE_MATH_H
#define INCLUDED_LMSSCC_ENGINE_MATH_H

#include "engine_arch.h"
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace gr {
namespace lmsscc {
namespace detail {

/* Round half to even for |v| < 2^22 with plain float arithmetic. */
LMSSCC_INLINE float round_even(float v)
{
    const float magic = 12582912.0f; // 1.5 * 2^23
    const float a = (std::fabs(v) + magic) - magic;
    return v < 0.0f ? -a : a;
}

/* exp(x) for floats: 2^k * p(r), r = x - k ln2 (Cody-Waite), p a
 * Taylor polynomial (degree 7); arguments clamped to [-87.3, 88]. */
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

/* The same order for the sum of squares. */
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

} // namespace detail
} // namespace lmsscc
} // namespace gr

#endif
