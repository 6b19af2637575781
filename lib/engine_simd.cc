/* -*- c++ -*- */
/* gr-lmsscc engine: which SIMD paths exist (compiled in and supported by the
 * running CPU), and IEEE half floats, the scales of the GGUF blocks. */

#include <gnuradio/lmsscc/llama_engine.h>
#include "engine_arch.h"
#include <cstring>
#include <stdexcept>
#include <string>

namespace gr {
namespace lmsscc {

/* ---------------------------------------------------------------- SIMD levels */

bool simd_supported(simd_level level)
{
    switch (level) {
    case simd_level::scalar:
        return true;
#if LMSSCC_HAVE_X86_KERNELS
    case simd_level::avx2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
    case simd_level::avx512vnni:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
               __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
#endif
    default:
        return false;
    }
}

simd_level best_simd()
{
    if (simd_supported(simd_level::avx512vnni))
        return simd_level::avx512vnni;
    if (simd_supported(simd_level::avx2))
        return simd_level::avx2;
    return simd_level::scalar;
}

const char* simd_name(simd_level level)
{
    switch (level) {
    case simd_level::scalar:
        return "scalar";
    case simd_level::avx2:
        return "avx2";
    case simd_level::avx512vnni:
        return "avx512vnni";
    }
    return "?";
}

simd_level parse_simd(const std::string& name)
{
    if (name == "auto" || name.empty())
        return best_simd();
    if (name == "scalar")
        return simd_level::scalar;
    if (name == "avx2")
        return simd_level::avx2;
    if (name == "avx512vnni" || name == "avx512")
        return simd_level::avx512vnni;
    throw std::invalid_argument("unknown SIMD level '" + name +
                                "' (scalar, avx2, avx512vnni or auto)");
}

/* ---------------------------------------------------------------- halves */

float half_to_float(uint16_t h)
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

uint16_t float_to_half(float f)
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

} // namespace lmsscc
} // namespace gr
