// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* Unit tests of the SC / SC-list polar decoder (run by ctest). */

#include "qa_check.h"
#include <gnuradio/lmsscc/scl_decoder.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

using namespace gr::lmsscc;

/* Polar(16, 8): the 5G NR reliability sequence (3GPP TS 38.212 table 5.3.1.2-1)
 * restricted to indices < 16, least reliable first; the 8 least reliable are frozen. */
static std::vector<uint8_t> polar16_8_frozen()
{
    const int order[16] = { 0, 1, 2, 4, 8, 3, 5, 9, 6, 10, 12, 7, 11, 13, 14, 15 };
    std::vector<uint8_t> frozen(16, 0);
    for (int i = 0; i < 8; ++i)
        frozen[order[i]] = 1;
    return frozen;
}

static std::vector<uint8_t> random_frozen(std::mt19937_64& rng, size_t n, size_t k)
{
    std::vector<uint8_t> frozen(n, 1);
    std::vector<size_t> idx(n);
    for (size_t i = 0; i < n; ++i)
        idx[i] = i;
    std::shuffle(idx.begin(), idx.end(), rng);
    for (size_t i = 0; i < k; ++i)
        frozen[idx[i]] = 0;
    return frozen;
}

static std::vector<uint8_t> encode(const std::vector<uint8_t>& frozen, std::mt19937_64& rng)
{
    const size_t n = frozen.size();
    std::vector<uint8_t> u(n), x(n);
    for (size_t i = 0; i < n; ++i)
        u[i] = frozen[i] ? 0 : uint8_t(rng() & 1);
    polar_transform(u.data(), n, x.data());
    return x;
}

/* ML correlation metric of codeword x: sum of |L_j| where x_j disagrees with hard(L_j). */
static double ml_metric(const float* llr, const uint8_t* x, size_t n)
{
    double m = 0.0;
    for (size_t j = 0; j < n; ++j)
        if (x[j] != (llr[j] > 0.0f ? 1 : 0))
            m += std::fabs(llr[j]);
    return m;
}

static void test_transform_is_an_involution()
{
    std::mt19937_64 rng(1);
    for (size_t n : { 2, 8, 64, 128 }) {
        std::vector<uint8_t> u(n), x(n), back(n);
        for (auto& b : u)
            b = uint8_t(rng() & 1);
        polar_transform(u.data(), n, x.data());
        polar_transform(x.data(), n, back.data());
        CHECK(back == u); // F^2 = I over GF(2)
    }
    // u = e_0 gives row 0 of F = (1, 0, ..., 0); u = e_{n-1} gives the all-ones row.
    std::vector<uint8_t> e(8, 0), x(8);
    e[7] = 1;
    polar_transform(e.data(), 8, x.data());
    CHECK(std::vector<uint8_t>(8, 1) == x);
}

static void test_noiseless_decodes_exactly()
{
    std::mt19937_64 rng(2);
    std::vector<std::vector<uint8_t>> codes = { polar16_8_frozen(), random_frozen(rng, 64, 32),
                                                random_frozen(rng, 128, 86) };
    for (const auto& frozen : codes) {
        const size_t n = frozen.size(), frames = 50;
        std::vector<float> llr(frames * n);
        std::vector<uint8_t> sent(frames * n), out(frames * n);
        for (size_t b = 0; b < frames; ++b) {
            const auto x = encode(frozen, rng);
            for (size_t j = 0; j < n; ++j) {
                sent[b * n + j] = x[j];
                llr[b * n + j] = x[j] ? 4.0f : -4.0f; // package sign: positive means 1
            }
        }
        for (unsigned L : { 1u, 2u, 8u, 32u, 5u }) {
            scl_decoder dec(frozen, L);
            dec.decode(llr.data(), frames, out.data());
            CHECK(out == sent);
        }
    }
}

/* Every codeword of Polar(16, 8), for exhaustive ML. */
static std::vector<std::vector<uint8_t>> all_codewords(const std::vector<uint8_t>& frozen)
{
    std::vector<size_t> info;
    for (size_t i = 0; i < frozen.size(); ++i)
        if (!frozen[i])
            info.push_back(i);
    std::vector<std::vector<uint8_t>> words;
    for (size_t m = 0; m < (size_t(1) << info.size()); ++m) {
        std::vector<uint8_t> u(frozen.size(), 0), x(frozen.size());
        for (size_t t = 0; t < info.size(); ++t)
            u[info[t]] = uint8_t((m >> t) & 1);
        polar_transform(u.data(), u.size(), x.data());
        words.push_back(x);
    }
    return words;
}

static void test_large_list_is_maximum_likelihood()
{
    const auto frozen = polar16_8_frozen();
    const auto words = all_codewords(frozen);
    const size_t n = 16, frames = 2000;
    std::mt19937_64 rng(3);
    std::normal_distribution<float> noise(0.0f, 1.0f);
    const float sigma = 0.8f; // errors are common: SC alone often misses ML here
    std::vector<float> llr(frames * n);
    for (size_t b = 0; b < frames; ++b) {
        const auto x = encode(frozen, rng);
        for (size_t j = 0; j < n; ++j)
            llr[b * n + j] = 2.0f * ((2.0f * x[j] - 1.0f) + sigma * noise(rng)) / (sigma * sigma);
    }
    std::vector<uint8_t> out(frames * n), sc(frames * n);
    std::vector<float> pm(frames);
    for (unsigned L : { 256u, 1024u }) {
        scl_decoder(frozen, L).decode(llr.data(), frames, out.data(), pm.data());
        size_t same = 0, metric_ok = 0;
        for (size_t b = 0; b < frames; ++b) {
            size_t best = 0;
            double best_m = std::numeric_limits<double>::infinity();
            for (size_t w = 0; w < words.size(); ++w) {
                const double m = ml_metric(&llr[b * n], words[w].data(), n);
                if (m < best_m) {
                    best_m = m;
                    best = w;
                }
            }
            const double got = ml_metric(&llr[b * n], &out[b * n], n);
            same += std::equal(words[best].begin(), words[best].end(), out.begin() + b * n);
            metric_ok += std::fabs(got - best_m) <= 1e-4 * (1.0 + best_m) &&
                         std::fabs(pm[b] - got) <= 1e-4 * (1.0 + got);
        }
        CHECK(metric_ok == frames); // the path metric is the ML metric, and it is minimal
        CHECK(same >= frames - 2);  // equal codewords up to float near-ties
    }
    // The test can fail: plain SC is not ML on this noise level.
    scl_decoder(frozen, 1).decode(llr.data(), frames, sc.data());
    size_t sc_same = 0;
    for (size_t b = 0; b < frames; ++b)
        sc_same += std::equal(sc.begin() + b * n, sc.begin() + (b + 1) * n, out.begin() + b * n);
    CHECK(sc_same < frames);
}

static void test_bad_arguments_throw()
{
    CHECK(throws_invalid([] { scl_decoder(std::vector<uint8_t>(12, 0), 8); }));
    CHECK(throws_invalid([] { scl_decoder(std::vector<uint8_t>(1, 0), 8); }));
    CHECK(throws_invalid([] { scl_decoder(std::vector<uint8_t>(16, 0), 0); }));
    scl_decoder dec(polar16_8_frozen(), 4);
    std::vector<float> llr(32, 1.0f);
    std::vector<uint8_t> out(32, 7);
    llr[20] = std::numeric_limits<float>::quiet_NaN();
    CHECK(throws_invalid([&] { dec.decode(llr.data(), 2, out.data()); }));
    llr[20] = std::numeric_limits<float>::infinity();
    CHECK(throws_invalid([&] { dec.decode(llr.data(), 2, out.data()); }));
    CHECK(out == std::vector<uint8_t>(32, 7)); // nothing written on error
    CHECK(dec.k() == 8 && dec.n() == 16 && dec.list_size() == 4);
}

int main()
{
    test_transform_is_an_involution();
    test_noiseless_decodes_exactly();
    test_large_list_is_maximum_likelihood();
    test_bad_arguments_throw();
    return qa_exit_code("qa_scl_decoder");
}
