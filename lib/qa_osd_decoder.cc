// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* Unit tests of the ordered-statistics decoder (run by ctest):
 *  - order k (every test pattern) equals exhaustive maximum-likelihood
 *    decoding over all 2^k codewords (Hamming(7,4), random small codes);
 *  - outputs are codewords for every order, one- and multi-word rows;
 *  - the prune / early_stop rules never change the decoded word;
 *  - generator and parity-check construction agree;
 *  - degenerate matrices and non-finite LLRs are refused. */

#include "qa_check.h"
#include <gnuradio/lmsscc/osd_decoder.h>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

using namespace gr::lmsscc;
using bytes = std::vector<uint8_t>;

struct small_code {
    size_t m, n;
    bytes H;
    std::vector<bytes> codewords; // all 2^k, by brute force over {0,1}^n
};

static bool satisfies(const small_code& c, const uint8_t* word)
{
    for (size_t i = 0; i < c.m; ++i) {
        int parity = 0;
        for (size_t j = 0; j < c.n; ++j)
            parity ^= c.H[i * c.n + j] & word[j];
        if (parity)
            return false;
    }
    return true;
}

static small_code make_code(size_t m, size_t n, bytes H)
{
    small_code c{m, n, std::move(H), {}};
    if (n <= 22) {
        bytes w(n);
        for (uint32_t v = 0; v < (1u << n); ++v) {
            for (size_t j = 0; j < n; ++j)
                w[j] = (v >> j) & 1u;
            if (satisfies(c, w.data()))
                c.codewords.push_back(w);
        }
    }
    return c;
}

static small_code hamming74()
{
    return make_code(3, 7, {1, 0, 1, 0, 1, 0, 1, //
                            0, 1, 1, 0, 0, 1, 1, //
                            0, 0, 0, 1, 1, 1, 1});
}

static small_code random_code(std::mt19937_64& rng, size_t m, size_t n, double density)
{
    std::bernoulli_distribution one(density);
    bytes H(m * n);
    for (auto& v : H)
        v = one(rng);
    // An extra dependent row (sum of the first two) exercises rank-deficient H.
    if (m >= 3)
        for (size_t j = 0; j < n; ++j)
            H[(m - 1) * n + j] = H[j] ^ H[n + j];
    return make_code(m, n, std::move(H));
}

static std::vector<double> noisy_llrs(std::mt19937_64& rng, const small_code& c, size_t frames,
                                      double sigma)
{
    std::normal_distribution<double> noise(0.0, sigma);
    std::uniform_int_distribution<size_t> pick(0, c.codewords.empty() ? 0 : c.codewords.size() - 1);
    std::vector<double> llr(frames * c.n);
    for (size_t f = 0; f < frames; ++f) {
        const bytes* cw = c.codewords.empty() ? nullptr : &c.codewords[pick(rng)];
        for (size_t j = 0; j < c.n; ++j) {
            const double x = (cw && (*cw)[j]) ? 1.0 : -1.0;
            llr[f * c.n + j] = 2.0 * (x + noise(rng)) / (sigma * sigma);
        }
    }
    return llr;
}

/* ML by exhaustion: the codeword with the largest correlation sum_j L_j (2c_j - 1). */
static bytes exhaustive_ml(const small_code& c, const double* llr)
{
    double best = -std::numeric_limits<double>::infinity();
    const bytes* arg = nullptr;
    for (const auto& cw : c.codewords) {
        double corr = 0;
        for (size_t j = 0; j < c.n; ++j)
            corr += llr[j] * (cw[j] ? 1.0 : -1.0);
        if (corr > best) {
            best = corr;
            arg = &cw;
        }
    }
    return *arg;
}

static osd_decoder::options opts(int order, bool prune, bool early_stop)
{
    osd_decoder::options o;
    o.order = order;
    o.prune = prune;
    o.early_stop = early_stop;
    return o;
}

static bytes decode(const osd_decoder& d, const std::vector<double>& llr, size_t frames,
                    const std::vector<double>* ordering = nullptr, osd_stats* st = nullptr)
{
    bytes out(frames * d.n());
    d.decode(llr.data(), ordering ? ordering->data() : nullptr, frames, out.data(), st);
    return out;
}

static void test_order_k_is_ml(const small_code& c, std::mt19937_64& rng, double sigma)
{
    const size_t frames = 3000;
    const size_t k = size_t(std::log2(double(c.codewords.size())) + 0.5);
    for (int rules = 0; rules < 4; ++rules) {
        const osd_decoder d = osd_decoder::from_parity_check(
            c.H.data(), c.m, c.n, opts(int(k), rules & 1, rules & 2));
        CHECK(d.k() == k);
        CHECK(d.patterns_per_frame() == (uint64_t(1) << k));
        const std::vector<double> llr = noisy_llrs(rng, c, frames, sigma);
        const bytes out = decode(d, llr, frames);
        size_t mismatches = 0;
        for (size_t f = 0; f < frames; ++f) {
            const bytes ml = exhaustive_ml(c, &llr[f * c.n]);
            for (size_t j = 0; j < c.n; ++j)
                mismatches += ml[j] != out[f * c.n + j];
        }
        CHECK(mismatches == 0);
    }
}

static void test_outputs_are_codewords_and_rules_exact(std::mt19937_64& rng, size_t m, size_t n,
                                                       size_t frames)
{
    const small_code c = random_code(rng, m, n, 0.15);
    for (int order = 0; order <= 3; ++order) {
        const osd_decoder exhaustive =
            osd_decoder::from_parity_check(c.H.data(), m, n, opts(order, false, false));
        const osd_decoder fast =
            osd_decoder::from_parity_check(c.H.data(), m, n, opts(order, true, true));
        for (double sigma : {0.6, 0.9}) {
            std::vector<double> llr = noisy_llrs(rng, c, frames, sigma); // random words
            osd_stats st_slow, st_fast;
            const bytes a = decode(exhaustive, llr, frames, nullptr, &st_slow);
            const bytes b = decode(fast, llr, frames, nullptr, &st_fast);
            CHECK(a == b);
            CHECK(st_fast.candidates <= st_slow.candidates);
            CHECK(st_slow.candidates == frames * exhaustive.patterns_per_frame());
            for (size_t f = 0; f < frames; ++f)
                CHECK(satisfies(c, &a[f * n]));
            // Other ordering reliabilities: still codewords, rules still exact.
            std::uniform_real_distribution<double> u(0.0, 1.0);
            std::vector<double> ordering(llr.size());
            for (auto& v : ordering)
                v = u(rng);
            const bytes a2 = decode(exhaustive, llr, frames, &ordering);
            const bytes b2 = decode(fast, llr, frames, &ordering);
            CHECK(a2 == b2);
            for (size_t f = 0; f < frames; ++f)
                CHECK(satisfies(c, &b2[f * n]));
        }
    }
}

static void test_generator_equals_parity_check()
{
    const small_code c = hamming74();
    // A generator of the same code, with a repeated (dependent) row.
    const bytes G = {1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0,
                     1, 1, 0, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0};
    for (size_t r = 0; r < 5; ++r)
        CHECK(satisfies(c, &G[r * 7]));
    const osd_decoder a = osd_decoder::from_parity_check(c.H.data(), 3, 7, opts(2, true, true));
    const osd_decoder b = osd_decoder::from_generator(G.data(), 5, 7, opts(2, true, true));
    CHECK(a.k() == 4 && b.k() == 4);
    CHECK(a.dmin() == 3 && b.dmin() == 3 && a.dmin_exact());
    std::mt19937_64 rng(5);
    const std::vector<double> llr = noisy_llrs(rng, c, 500, 0.8);
    CHECK(decode(a, llr, 500) == decode(b, llr, 500));
}

static void test_degenerate_inputs()
{
    const bytes zero(3 * 7, 0);
    CHECK(throws_invalid([&] { osd_decoder::from_parity_check(zero.data(), 3, 7, {}); }));
    bytes identity(4 * 4, 0);
    for (size_t i = 0; i < 4; ++i)
        identity[i * 4 + i] = 1;
    CHECK(throws_invalid([&] { osd_decoder::from_parity_check(identity.data(), 4, 4, {}); }));
    CHECK(throws_invalid([&] { osd_decoder::from_generator(zero.data(), 3, 7, {}); }));
    CHECK(throws_invalid([&] { osd_decoder::from_generator(identity.data(), 4, 4, {}); }));
    bytes two = hamming74().H;
    two[0] = 2;
    CHECK(throws_invalid([&] { osd_decoder::from_parity_check(two.data(), 3, 7, {}); }));
    CHECK(throws_invalid([&] { osd_decoder::from_parity_check(two.data(), 3, 0, {}); }));
    const small_code c = hamming74();
    CHECK(throws_invalid(
        [&] { osd_decoder::from_parity_check(c.H.data(), 3, 7, opts(-1, true, true)); }));
    for (int bad_dmin : {0, -2, 8}) {
        osd_decoder::options o;
        o.dmin = bad_dmin;
        CHECK(throws_invalid([&] { osd_decoder::from_parity_check(c.H.data(), 3, 7, o); }));
    }
    const osd_decoder d = osd_decoder::from_parity_check(c.H.data(), 3, 7, {});
    bytes out(7);
    for (double bad : {std::nan(""), double(INFINITY), -double(INFINITY)}) {
        std::vector<double> llr(7, 1.0);
        llr[3] = bad;
        CHECK(throws_invalid([&] { d.decode(llr.data(), nullptr, 1, out.data()); }));
        std::vector<double> ok(7, 1.0);
        CHECK(throws_invalid([&] { d.decode(ok.data(), llr.data(), 1, out.data()); }));
    }
}

static void test_min_distance()
{
    const small_code c = hamming74();
    const osd_decoder d = osd_decoder::from_parity_check(c.H.data(), 3, 7, {});
    CHECK(d.dmin() == 3);
    // The (7,4) Hamming code extended by an overall parity bit has d_min 4.
    const bytes H8 = {1, 0, 1, 0, 1, 0, 1, 0, //
                      0, 1, 1, 0, 0, 1, 1, 0, //
                      0, 0, 0, 1, 1, 1, 1, 0, //
                      1, 1, 1, 1, 1, 1, 1, 1};
    CHECK(osd_decoder::from_parity_check(H8.data(), 4, 8, {}).dmin() == 4);
    // Past the enumeration limit the column bound is used (and flagged as a bound).
    osd_decoder::options o;
    o.dmin_enumeration_max_k = 2;
    const osd_decoder bound = osd_decoder::from_parity_check(H8.data(), 4, 8, o);
    CHECK(bound.dmin() == 3 && !bound.dmin_exact());
}

/* d_min from the dual's weights (MacWilliams) equals direct enumeration. */
static void test_min_distance_from_dual(std::mt19937_64& rng)
{
    osd_decoder::options via_dual;
    const small_code h = hamming74();
    via_dual.dmin_enumeration_max_k = 3; // k = 4 too many, n - k = 3 enumerated
    const osd_decoder d = osd_decoder::from_parity_check(h.H.data(), 3, 7, via_dual);
    CHECK(d.dmin() == 3 && d.dmin_exact());
    for (int trial = 0; trial < 12; ++trial) {
        const size_t m = 4 + size_t(trial % 5), n = 14 + size_t(trial);
        const small_code c = random_code(rng, m, n, 0.3);
        const osd_decoder direct = osd_decoder::from_parity_check(c.H.data(), m, n, {});
        via_dual.dmin_enumeration_max_k = int(m); // n - k <= m < k
        const osd_decoder dual = osd_decoder::from_parity_check(c.H.data(), m, n, via_dual);
        CHECK(direct.dmin_exact() && dual.dmin_exact());
        CHECK(direct.dmin() == dual.dmin());
    }
}

int main()
{
    std::mt19937_64 rng(20261202);
    test_order_k_is_ml(hamming74(), rng, 0.8);
    test_order_k_is_ml(hamming74(), rng, 1.2);
    for (int trial = 0; trial < 3; ++trial)
        test_order_k_is_ml(random_code(rng, 10, 16, 0.3), rng, 0.9);
    test_outputs_are_codewords_and_rules_exact(rng, 12, 30, 400);
    test_outputs_are_codewords_and_rules_exact(rng, 100, 150, 20); // three words per row
    test_generator_equals_parity_check();
    test_degenerate_inputs();
    test_min_distance();
    test_min_distance_from_dual(rng);
    return qa_exit_code("qa_osd_decoder");
}
