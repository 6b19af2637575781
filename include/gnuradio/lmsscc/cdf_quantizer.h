// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/*
 * gr-lmsscc: turn a model's logits (or probabilities) into an integer CDF
 * with an exact power-of-two total, every symbol at least frequency 1.
 *
 * Deterministic by construction: one sequential pass in double precision in a
 * fixed order (no -ffast-math, no parallel reduction), so the same float
 * inputs give the same CDF on every run and thread count. The rounding slack
 * goes to the most probable symbol (lowest index on ties).
 */
#ifndef INCLUDED_LMSSCC_CDF_QUANTIZER_H
#define INCLUDED_LMSSCC_CDF_QUANTIZER_H

#include <gnuradio/lmsscc/api.h>
#include <cstddef>
#include <cstdint>

namespace gr {
namespace lmsscc {

//! cdf must have room for n+1 entries. Requires 1 <= n <= 2^precision.
//! Logits may be -inf (probability 0, still coded with frequency 1); NaN or
//! +inf throw std::invalid_argument. If log_sum_exp is given it receives
//! log(sum(exp(logits))) (natural log), so -log p(i) = it - logits[i] comes free.
LMSSCC_API void logits_to_cdf(const float* logits,
                              size_t n,
                              unsigned precision,
                              uint32_t* cdf,
                              double* log_sum_exp = nullptr);

//! Same from (unnormalised, non-negative, finite) probabilities.
LMSSCC_API void probs_to_cdf(const float* probs, size_t n, unsigned precision, uint32_t* cdf);

} // namespace lmsscc
} // namespace gr

#endif
