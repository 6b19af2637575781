// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* SC / SC-list decoding of polar codes (see scl_decoder.h for the maths). */

#include <gnuradio/lmsscc/scl_decoder.h>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>

namespace gr {
namespace lmsscc {

void polar_transform(const uint8_t* u, size_t n, uint8_t* x)
{
    std::memcpy(x, u, n);
    // Butterflies of F = [[1,0],[1,1]]^{(x)m}: x[j] ^= x[j + h] within each block.
    for (size_t h = 1; h < n; h <<= 1)
        for (size_t block = 0; block < n; block += 2 * h)
            for (size_t j = block; j < block + h; ++j)
                x[j] ^= x[j + h];
}

namespace {

inline float f_minsum(float a, float b)
{
    const float m = std::min(std::fabs(a), std::fabs(b));
    return (std::signbit(a) != std::signbit(b)) ? -m : m;
}

inline float g_exact(float a, float b, uint8_t left_bit) { return left_bit ? b - a : b + a; }

/* The list of paths of one frame with lazily copied per-depth arrays.
 * Depth d holds arrays of n >> d entries: LLRs for d >= 1 (depth 0 is the
 * channel, shared and never written) and partial-sum bits for d >= 0. */
class path_list
{
public:
    path_list(size_t n, unsigned depth, unsigned list_size)
        : d_n(n), d_m(depth), d_L(list_size), d_llr_pool(depth + 1), d_bit_pool(depth + 1),
          d_llr_ref(depth + 1), d_bit_ref(depth + 1), d_llr_free(depth + 1),
          d_bit_free(depth + 1), d_llr_idx(size_t(list_size) * (depth + 1)),
          d_bit_idx(size_t(list_size) * (depth + 1)), d_pm(list_size)
    {
        for (unsigned d = 0; d <= d_m; ++d) {
            if (d > 0)
                d_llr_pool[d].resize(size_t(d_L) * (d_n >> d));
            d_bit_pool[d].resize(size_t(d_L) * (d_n >> d));
            d_llr_ref[d].resize(d_L);
            d_bit_ref[d].resize(d_L);
        }
        d_active.reserve(d_L);
        d_path_free.reserve(d_L);
    }

    //! One path with metric 0 that owns array 0 at every depth.
    void start(const float* channel_lambda)
    {
        d_channel = channel_lambda;
        for (unsigned d = 0; d <= d_m; ++d) {
            std::fill(d_llr_ref[d].begin(), d_llr_ref[d].end(), 0);
            std::fill(d_bit_ref[d].begin(), d_bit_ref[d].end(), 0);
            d_llr_free[d].clear();
            d_bit_free[d].clear();
            for (int a = int(d_L) - 1; a >= 1; --a) {
                d_llr_free[d].push_back(a);
                d_bit_free[d].push_back(a);
            }
            d_llr_ref[d][0] = d_bit_ref[d][0] = 1;
            d_llr_idx[d] = d_bit_idx[d] = 0;
        }
        d_path_free.clear();
        for (int p = int(d_L) - 1; p >= 1; --p)
            d_path_free.push_back(p);
        d_active.assign(1, 0);
        d_pm[0] = 0.0f;
    }

    const std::vector<int>& active() const { return d_active; }
    float& metric(int p) { return d_pm[p]; }

    const float* llr_in(int p, unsigned d) const
    {
        if (d == 0)
            return d_channel;
        return &d_llr_pool[d][size_t(d_llr_idx[slot(p, d)]) * (d_n >> d)];
    }

    //! The path's LLR array at depth d, made private; its content is about
    //! to be overwritten entirely, so nothing is copied.
    float* llr_out(int p, unsigned d)
    {
        int& a = d_llr_idx[slot(p, d)];
        if (d_llr_ref[d][a] > 1) {
            --d_llr_ref[d][a];
            a = take(d_llr_free[d]);
            d_llr_ref[d][a] = 1;
        }
        return &d_llr_pool[d][size_t(a) * (d_n >> d)];
    }

    const uint8_t* bits_in(int p, unsigned d) const
    {
        return &d_bit_pool[d][size_t(d_bit_idx[slot(p, d)]) * (d_n >> d)];
    }

    //! The path's bit array at depth d, made private; the first `keep`
    //! entries are still needed and are copied when the array was shared.
    uint8_t* bits_out(int p, unsigned d, size_t keep)
    {
        int& a = d_bit_idx[slot(p, d)];
        const size_t len = d_n >> d;
        if (d_bit_ref[d][a] > 1) {
            --d_bit_ref[d][a];
            const int old = a;
            a = take(d_bit_free[d]);
            d_bit_ref[d][a] = 1;
            std::memcpy(&d_bit_pool[d][size_t(a) * len], &d_bit_pool[d][size_t(old) * len], keep);
        }
        return &d_bit_pool[d][size_t(a) * len];
    }

    //! A new active path sharing every array of p (copies indices only).
    int clone(int p)
    {
        const int q = take(d_path_free);
        for (unsigned d = 0; d <= d_m; ++d) {
            d_llr_idx[slot(q, d)] = d_llr_idx[slot(p, d)];
            d_bit_idx[slot(q, d)] = d_bit_idx[slot(p, d)];
            ++d_llr_ref[d][d_llr_idx[slot(p, d)]];
            ++d_bit_ref[d][d_bit_idx[slot(p, d)]];
        }
        d_pm[q] = d_pm[p];
        d_active.push_back(q);
        return q;
    }

    //! Drop the paths flagged in `dead` (indexed like active()).
    void kill(const std::vector<uint8_t>& dead)
    {
        size_t kept = 0;
        for (size_t t = 0; t < d_active.size(); ++t) {
            const int p = d_active[t];
            if (!dead[t]) {
                d_active[kept++] = p;
                continue;
            }
            for (unsigned d = 0; d <= d_m; ++d) {
                release(d_llr_ref[d], d_llr_free[d], d_llr_idx[slot(p, d)]);
                release(d_bit_ref[d], d_bit_free[d], d_bit_idx[slot(p, d)]);
            }
            d_path_free.push_back(p);
        }
        d_active.resize(kept);
    }

private:
    size_t slot(int p, unsigned d) const { return size_t(p) * (d_m + 1) + d; }

    static int take(std::vector<int>& stack)
    {
        if (stack.empty()) // cannot happen: at most L paths hold one array per depth each
            throw std::logic_error("scl_decoder: array pool exhausted");
        const int a = stack.back();
        stack.pop_back();
        return a;
    }

    static void release(std::vector<int>& ref, std::vector<int>& stack, int a)
    {
        if (--ref[a] == 0)
            stack.push_back(a);
    }

    size_t d_n;
    unsigned d_m, d_L;
    const float* d_channel = nullptr;
    std::vector<std::vector<float>> d_llr_pool;
    std::vector<std::vector<uint8_t>> d_bit_pool;
    std::vector<std::vector<int>> d_llr_ref, d_bit_ref, d_llr_free, d_bit_free;
    std::vector<int> d_llr_idx, d_bit_idx; // [path][depth] -> array in that depth's pool
    std::vector<float> d_pm;
    std::vector<int> d_active, d_path_free;
};

/* Walks the code tree for one frame on every path of the list in lockstep
 * (the frozen pattern is common to all paths). */
class tree_walker
{
public:
    tree_walker(const std::vector<std::vector<uint8_t>>& rate0, size_t n, unsigned depth, unsigned L)
        : d_rate0(rate0), d_n(n), d_m(depth), d_L(L), d_paths(n, depth, L)
    {
    }

    //! Decode one frame of internal-sign LLRs; returns the best path's metric.
    float run(const float* lambda, uint8_t* codeword)
    {
        d_paths.start(lambda);
        node(0, 0);
        int best = d_paths.active()[0];
        for (int p : d_paths.active())
            if (d_paths.metric(p) < d_paths.metric(best))
                best = p;
        std::memcpy(codeword, d_paths.bits_in(best, 0), d_n);
        return d_paths.metric(best);
    }

private:
    void node(unsigned d, size_t start)
    {
        const size_t size = d_n >> d;
        if (d_rate0[d][start / size]) {
            frozen_node(d, size);
            return;
        }
        if (d == d_m) {
            info_leaf();
            return;
        }
        const size_t half = size / 2;
        for (int p : d_paths.active()) {
            const float* in = d_paths.llr_in(p, d);
            float* out = d_paths.llr_out(p, d + 1);
            for (size_t j = 0; j < half; ++j)
                out[j] = f_minsum(in[j], in[j + half]);
        }
        node(d + 1, start);
        for (int p : d_paths.active()) {
            uint8_t* bits = d_paths.bits_out(p, d, 0);
            std::memcpy(bits, d_paths.bits_in(p, d + 1), half);
            const float* in = d_paths.llr_in(p, d);
            float* out = d_paths.llr_out(p, d + 1);
            for (size_t j = 0; j < half; ++j)
                out[j] = g_exact(in[j], in[j + half], bits[j]);
        }
        node(d + 1, start + half);
        for (int p : d_paths.active()) {
            uint8_t* bits = d_paths.bits_out(p, d, half);
            const uint8_t* right = d_paths.bits_in(p, d + 1);
            for (size_t j = 0; j < half; ++j) {
                bits[j] ^= right[j];
                bits[j + half] = right[j];
            }
        }
    }

    /* All-frozen subtree: codeword 0; the metric gains |lambda_j| for every
     * LLR of the node that favours 1 (what bit-by-bit SC would add with
     * min-sum f, in one pass). */
    void frozen_node(unsigned d, size_t size)
    {
        for (int p : d_paths.active()) {
            const float* in = d_paths.llr_in(p, d);
            float penalty = 0.0f;
            for (size_t j = 0; j < size; ++j)
                penalty += in[j] < 0.0f ? -in[j] : 0.0f;
            d_paths.metric(p) += penalty;
            std::memset(d_paths.bits_out(p, d, 0), 0, size);
        }
    }

    /* Information bit: every path forks into its hard decision (metric
     * unchanged) and the other value (metric + |lambda|); the L best of the
     * 2 * |list| candidates survive. Ties go to the earlier candidate, so
     * L = 1 always takes the hard decision (plain SC). */
    void info_leaf()
    {
        d_snapshot = d_paths.active(); // clone() appends to the list: iterate over a copy
        const std::vector<int>& paths = d_snapshot;
        const size_t a = paths.size();
        d_lambda.resize(a);
        d_cand.resize(2 * a);
        for (size_t t = 0; t < a; ++t) {
            d_lambda[t] = d_paths.llr_in(paths[t], d_m)[0];
            d_cand[2 * t] = d_paths.metric(paths[t]);
            d_cand[2 * t + 1] = d_paths.metric(paths[t]) + std::fabs(d_lambda[t]);
        }
        d_keep.assign(2 * a, 1);
        if (2 * a > d_L)
            select_best();
        d_dead.assign(a, 0);
        for (size_t t = 0; t < a; ++t)
            d_dead[t] = !d_keep[2 * t] && !d_keep[2 * t + 1];
        d_paths.kill(d_dead);
        for (size_t t = 0; t < a; ++t) {
            if (d_dead[t])
                continue;
            const int p = paths[t];
            const uint8_t hard = d_lambda[t] < 0.0f ? 1 : 0;
            if (d_keep[2 * t] && d_keep[2 * t + 1]) {
                const int q = d_paths.clone(p);
                d_paths.metric(q) = d_cand[2 * t + 1];
                d_paths.bits_out(q, d_m, 0)[0] = hard ^ 1;
                d_paths.bits_out(p, d_m, 0)[0] = hard;
            } else {
                const bool flip = d_keep[2 * t + 1];
                d_paths.metric(p) = d_cand[2 * t + flip];
                d_paths.bits_out(p, d_m, 0)[0] = hard ^ uint8_t(flip);
            }
        }
    }

    void select_best()
    {
        d_order.resize(d_cand.size());
        std::iota(d_order.begin(), d_order.end(), 0);
        const auto better = [this](int x, int y) {
            return d_cand[x] < d_cand[y] || (d_cand[x] == d_cand[y] && x < y);
        };
        std::nth_element(d_order.begin(), d_order.begin() + d_L, d_order.end(), better);
        std::fill(d_keep.begin(), d_keep.end(), 0);
        for (unsigned i = 0; i < d_L; ++i)
            d_keep[d_order[i]] = 1;
    }

    const std::vector<std::vector<uint8_t>>& d_rate0;
    size_t d_n;
    unsigned d_m, d_L;
    path_list d_paths;
    std::vector<float> d_lambda, d_cand;
    std::vector<uint8_t> d_keep, d_dead;
    std::vector<int> d_order, d_snapshot;
};

} // namespace

scl_decoder::scl_decoder(const std::vector<uint8_t>& frozen, unsigned list_size)
    : d_frozen(frozen.size()), d_k(0), d_list_size(list_size), d_depth(0)
{
    const size_t n = frozen.size();
    if (n < 2 || (n & (n - 1)) != 0)
        throw std::invalid_argument("scl_decoder: code length must be a power of two >= 2, got " +
                                    std::to_string(n));
    if (list_size < 1)
        throw std::invalid_argument("scl_decoder: list size must be >= 1");
    while ((size_t(1) << d_depth) < n)
        ++d_depth;
    for (size_t i = 0; i < n; ++i) {
        d_frozen[i] = frozen[i] ? 1 : 0;
        d_k += 1 - d_frozen[i];
    }
    d_rate0.resize(d_depth + 1);
    for (unsigned d = 0; d <= d_depth; ++d) {
        const size_t size = n >> d;
        d_rate0[d].resize(size_t(1) << d);
        for (size_t j = 0; j < d_rate0[d].size(); ++j) {
            const auto first = d_frozen.begin() + j * size;
            d_rate0[d][j] = std::all_of(first, first + size, [](uint8_t f) { return f != 0; });
        }
    }
}

void scl_decoder::decode(const float* llr, size_t frames, uint8_t* codewords, float* path_metrics) const
{
    const size_t n = d_frozen.size();
    for (size_t i = 0; i < frames * n; ++i)
        if (!std::isfinite(llr[i]))
            throw std::invalid_argument("scl_decoder: LLR " + std::to_string(i % n) + " of frame " +
                                        std::to_string(i / n) + " is not finite");
    tree_walker walker(d_rate0, n, d_depth, d_list_size);
    std::vector<float> lambda(n);
    for (size_t b = 0; b < frames; ++b) {
        // Package LLRs (ln P1/P0) -> the polar literature's sign (ln P0/P1).
        for (size_t j = 0; j < n; ++j)
            lambda[j] = -llr[b * n + j];
        const float pm = walker.run(lambda.data(), codewords + b * n);
        if (path_metrics)
            path_metrics[b] = pm;
    }
}

} // namespace lmsscc
} // namespace gr
