// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* The engine's building blocks that are not public API (private header of
 * lib/, not installed): used by the engine's own files and by its C++ tests
 * (qa_llama_engine.cc, qa_known_answers.cc), which check each of them
 * against its definition. */
#ifndef INCLUDED_LMSSCC_LLAMA_ENGINE_INTERNAL_H
#define INCLUDED_LMSSCC_LLAMA_ENGINE_INTERNAL_H

#include <gnuradio/lmsscc/llama_engine.h>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace gr {
namespace lmsscc {

/* IEEE binary16 <-> binary32 (exact / round to nearest even); inline, as the
 * scalar kernel converts two scales per row and block. */
inline float half_to_float(uint16_t h)
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

inline uint16_t float_to_half(float f)
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

/* Activations of n tokens quantized per block of 32: q (n x cols int8),
 * scale and integer sum per (token, block). */
struct qactivations {
    int n = 0, cols = 0;
    std::vector<int8_t> q;
    std::vector<float> scale;
    std::vector<int32_t> sum;
};
LMSSCC_API void quantize_activations(const float* x, int n, int cols, qactivations& out);

/* y[t*rows + r] for row groups [group_begin, group_end), all n tokens. */
LMSSCC_API void qmatmul(const qmatrix& w, const qactivations& x, float* y, int group_begin,
                        int group_end, simd_level level);
/* The definition, written directly from unit()/block_d()/block_m(). */
LMSSCC_API void qmatmul_reference(const qmatrix& w, const qactivations& x, float* y);

/* The engine's own elementwise functions (fixed polynomials, no libm). */
LMSSCC_API void engine_exp(const float* x, float* y, size_t n);
LMSSCC_API double engine_sin(double x);
LMSSCC_API double engine_cos(double x);

} // namespace lmsscc
} // namespace gr

#endif
