// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* Which instruction-set code a build of the engine contains (private header
 * of lib/, shared by the engine's files).
 *
 * LMSSCC_ENGINE_X86_KERNELS is defined by lib/CMakeLists.txt when it compiles
 * the per-ISA kernel files engine_kernel_avx2.cc and engine_kernel_avx512.cc
 * (x86 targets only, each file with its own -m flags). Without it the engine
 * is portable C++ with the scalar kernel alone (the aarch64 build, the
 * scalar-only test build).
 *
 * LMSSCC_CLONES: plain C++ float code compiled for several ISAs and picked at
 * load time by the CPU (GCC target_clones). Without -ffast-math and with
 * -ffp-contract=off the compiler may only vectorize independent lanes and
 * never fuses or reorders float operations, so every clone computes the same
 * bits. LMSSCC_ENGINE_NO_CLONES turns them off (the -march=native test build,
 * which vectorizes every loop for this CPU instead). */
#ifndef INCLUDED_LMSSCC_ENGINE_ARCH_H
#define INCLUDED_LMSSCC_ENGINE_ARCH_H

#if defined(LMSSCC_ENGINE_X86_KERNELS)
#if !(defined(__x86_64__) || defined(__i386__)) || !defined(__GNUC__)
#error "LMSSCC_ENGINE_X86_KERNELS needs an x86 target and GCC-compatible intrinsics"
#endif
#define LMSSCC_HAVE_X86_KERNELS 1
#else
#define LMSSCC_HAVE_X86_KERNELS 0
#endif

#if LMSSCC_HAVE_X86_KERNELS && !defined(LMSSCC_ENGINE_NO_CLONES)
#define LMSSCC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LMSSCC_CLONES
#endif

#define LMSSCC_INLINE inline __attribute__((always_inline))

#endif
