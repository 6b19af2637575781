// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* gr-lmsscc engine: which SIMD paths exist (compiled in and supported by the
 * running CPU). */

#include <gnuradio/lmsscc/llama_engine.h>
#include "engine_arch.h"
#include <stdexcept>
#include <string>

namespace gr {
namespace lmsscc {

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

} // namespace lmsscc
} // namespace gr
