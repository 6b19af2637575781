// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* gr-lmsscc CDF quantizer; see include/gnuradio/lmsscc/cdf_quantizer.h. */

#include <gnuradio/lmsscc/cdf_quantizer.h>
#include <gnuradio/lmsscc/range_coder.h>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace gr {
namespace lmsscc {

namespace {

void check_shape(size_t n, unsigned precision)
{
    if (precision < RC_MIN_PRECISION || precision > RC_MAX_PRECISION)
        throw std::invalid_argument("CDF precision must be in [" +
                                    std::to_string(RC_MIN_PRECISION) + ", " +
                                    std::to_string(RC_MAX_PRECISION) + "]");
    if (n == 0)
        throw std::invalid_argument("cannot build a CDF over zero symbols");
    if (n > (size_t(1) << precision))
        throw std::invalid_argument("alphabet of " + std::to_string(n) +
                                    " symbols does not fit a total of 2^" +
                                    std::to_string(precision));
}

/* Weights w[i] >= 0 (sum > 0, finite) -> CDF. Each symbol gets
 * 1 + floor(w_i / sum * (total - n)); the most probable symbol absorbs the
 * difference to the exact total (it always has room: its share is >= 1/n). */
void weights_to_cdf(const std::vector<double>& w,
                    double sum,
                    size_t argmax,
                    unsigned precision,
                    uint32_t* cdf)
{
    const size_t n = w.size();
    const uint64_t total = uint64_t(1) << precision;
    const double scale = double(total - n) / sum;
    uint64_t assigned = 0;
    cdf[0] = 0;
    for (size_t i = 0; i < n; ++i) {
        const uint64_t f = 1 + uint64_t(std::floor(w[i] * scale));
        cdf[i + 1] = uint32_t(f); // frequencies for now, prefix-summed below
        assigned += f;
    }
    const int64_t slack = int64_t(total) - int64_t(assigned);
    cdf[argmax + 1] = uint32_t(int64_t(cdf[argmax + 1]) + slack);
    for (size_t i = 0; i < n; ++i)
        cdf[i + 1] += cdf[i];
}

thread_local std::vector<double> tl_weights;

} // namespace

void logits_to_cdf(const float* logits,
                   size_t n,
                   unsigned precision,
                   uint32_t* cdf,
                   double* log_sum_exp)
{
    check_shape(n, precision);
    float max_logit = -INFINITY;
    size_t argmax = 0;
    for (size_t i = 0; i < n; ++i) {
        const float x = logits[i];
        if (std::isnan(x) || x == INFINITY)
            throw std::invalid_argument("logit " + std::to_string(i) + " is NaN or +inf");
        if (x > max_logit) {
            max_logit = x;
            argmax = i;
        }
    }
    std::vector<double>& w = tl_weights;
    w.assign(n, 1.0); // all -inf: fall back to uniform
    double sum = double(n);
    if (max_logit != -INFINITY) {
        sum = 0.0;
        for (size_t i = 0; i < n; ++i) {
            w[i] = std::exp(double(logits[i]) - double(max_logit));
            sum += w[i];
        }
    }
    if (log_sum_exp)
        *log_sum_exp = max_logit == -INFINITY ? -INFINITY : double(max_logit) + std::log(sum);
    weights_to_cdf(w, sum, argmax, precision, cdf);
}

void probs_to_cdf(const float* probs, size_t n, unsigned precision, uint32_t* cdf)
{
    check_shape(n, precision);
    std::vector<double>& w = tl_weights;
    w.resize(n);
    double sum = 0.0;
    size_t argmax = 0;
    for (size_t i = 0; i < n; ++i) {
        const float p = probs[i];
        if (!std::isfinite(p) || p < 0.0f)
            throw std::invalid_argument("probability " + std::to_string(i) +
                                        " is negative, NaN or infinite");
        w[i] = double(p);
        sum += w[i];
        if (p > probs[argmax])
            argmax = i;
    }
    if (!(sum > 0.0)) {
        w.assign(n, 1.0);
        sum = double(n);
    }
    weights_to_cdf(w, sum, argmax, precision, cdf);
}

} // namespace lmsscc
} // namespace gr
