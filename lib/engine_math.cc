// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* gr-lmsscc engine: its own elementwise functions (fixed polynomials, no
 * libm, so results do not depend on the C library): exp for the softmax and
 * SiLU (engine_math.h, inlined where used), sin and cos for the RoPE table. */

#include "engine_math.h"
#include "llama_engine_internal.h"
#include <cmath>
#include <cstdint>

namespace gr {
namespace lmsscc {

void engine_exp(const float* x, float* y, size_t n) { detail::exp_core(x, y, n); }

namespace {

/* sin and cos of r, |r| <= pi/4, double precision Taylor polynomials. */
inline double sin_poly(double r)
{
    const double r2 = r * r;
    double s = 1.0 / 6227020800.0; // 1/13!
    s = s * r2 - 1.0 / 39916800.0; // 1/11!
    s = s * r2 + 1.0 / 362880.0;   // 1/9!
    s = s * r2 - 1.0 / 5040.0;
    s = s * r2 + 1.0 / 120.0;
    s = s * r2 - 1.0 / 6.0;
    s = s * r2;
    return r + r * s;
}

inline double cos_poly(double r)
{
    const double r2 = r * r;
    double c = 1.0 / 87178291200.0; // 1/14!
    c = c * r2 - 1.0 / 479001600.0; // 1/12!
    c = c * r2 + 1.0 / 3628800.0;   // 1/10!
    c = c * r2 - 1.0 / 40320.0;
    c = c * r2 + 1.0 / 720.0;
    c = c * r2 - 1.0 / 24.0;
    c = c * r2 + 0.5;
    return 1.0 - r2 * c;
}

/* x = q * pi/2 + r, |r| <= ~pi/4; three-part Cody-Waite pi/2 (|x| < 2^20). */
inline double reduce_half_pi(double x, int64_t& quadrant)
{
    const double inv = 0.63661977236758134308; // 2/pi
    const double k = std::floor(x * inv + 0.5);
    quadrant = int64_t(k);
    double r = x - k * 1.5707963267341256e+00;
    r = r - k * 6.0771005065061922e-11;
    r = r - k * 2.0222662487959506e-21;
    return r;
}

} // namespace

double engine_sin(double x)
{
    int64_t q;
    const double r = reduce_half_pi(x, q);
    switch (((q % 4) + 4) % 4) {
    case 0:
        return sin_poly(r);
    case 1:
        return cos_poly(r);
    case 2:
        return -sin_poly(r);
    default:
        return -cos_poly(r);
    }
}

double engine_cos(double x)
{
    int64_t q;
    const double r = reduce_half_pi(x, q);
    switch (((q % 4) + 4) % 4) {
    case 0:
        return cos_poly(r);
    case 1:
        return -sin_poly(r);
    case 2:
        return -cos_poly(r);
    default:
        return sin_poly(r);
    }
}

} // namespace lmsscc
} // namespace gr
