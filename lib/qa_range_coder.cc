// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* Unit tests of the range coder and CDF quantizer (run by ctest). */

#include <gnuradio/lmsscc/cdf_quantizer.h>
#include <gnuradio/lmsscc/range_coder.h>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <vector>

#include "qa_check.h"

using namespace gr::lmsscc;

template <class F>
static bool throws(F&& f)
{
    try {
        f();
    } catch (const std::exception&) {
        return true;
    }
    return false;
}

/* A random CDF with nsym symbols (some of zero frequency when allowed). */
static std::vector<uint32_t>
random_cdf(std::mt19937_64& rng, size_t nsym, unsigned precision, bool skewed)
{
    std::vector<float> logits(nsym);
    std::normal_distribution<float> normal(0.0f, skewed ? 8.0f : 1.0f);
    for (auto& x : logits)
        x = normal(rng);
    std::vector<uint32_t> cdf(nsym + 1);
    logits_to_cdf(logits.data(), nsym, precision, cdf.data());
    return cdf;
}

static void test_round_trip_random()
{
    std::mt19937_64 rng(1234);
    const unsigned precisions[] = { 1, 2, 8, 12, 16, 20, 24, 28, 31 };
    for (unsigned p : precisions) {
        for (int trial = 0; trial < 20; ++trial) {
            const size_t max_sym = std::min<size_t>(size_t(1) << p, 300);
            const size_t nsym = 1 + rng() % max_sym;
            const bool skewed = trial % 2;
            const size_t n = rng() % 2000;
            // A new CDF for each symbol, as with a language model.
            std::vector<std::vector<uint32_t>> cdfs;
            std::vector<uint32_t> syms;
            range_encoder enc(p);
            for (size_t i = 0; i < n; ++i) {
                cdfs.push_back(random_cdf(rng, nsym, p, skewed));
                const auto& c = cdfs.back();
                // Draw the symbol from the CDF itself so skewed models code
                // their likely symbols (this exercises carries and 0xFF runs).
                const uint32_t u = uint32_t(rng() % c[nsym]);
                uint32_t s = 0;
                while (c[s + 1] <= u)
                    ++s;
                syms.push_back(s);
                enc.encode_symbol(c.data(), nsym, s);
            }
            const std::vector<uint8_t> bytes = enc.finish();
            range_decoder dec(bytes.data(), bytes.size(), p);
            bool ok = true;
            for (size_t i = 0; i < n; ++i)
                ok = ok && dec.decode_symbol(cdfs[i].data(), nsym) == syms[i];
            CHECK(ok);
        }
    }
}

static void test_carry_runs()
{
    // Symbols that sit at the very top of the range force long 0xFF runs and
    // carries through them.
    for (unsigned p : { 8u, 16u, 24u }) {
        const uint32_t total = uint32_t(1) << p;
        std::vector<uint32_t> cdf = { 0, 1, total - 1, total };
        std::mt19937_64 rng(p);
        std::vector<uint32_t> syms(5000);
        for (auto& s : syms)
            s = (rng() % 10 == 0) ? uint32_t(rng() % 3) : 2u;
        range_encoder enc(p);
        enc.encode_symbols(syms.data(), syms.size(), cdf.data(), 3);
        auto bytes = enc.finish();
        range_decoder dec(bytes.data(), bytes.size(), p);
        std::vector<uint32_t> out(syms.size());
        dec.decode_symbols(out.data(), out.size(), cdf.data(), 3);
        CHECK(out == syms);
    }
}

static void test_empty_and_certain()
{
    range_encoder enc(16);
    auto bytes = enc.finish();
    CHECK(bytes.empty());
    // A symbol of probability 1 costs nothing.
    const uint32_t cdf[] = { 0, 65536 };
    range_encoder enc2(16);
    for (int i = 0; i < 100; ++i)
        enc2.encode_symbol(cdf, 1, 0);
    CHECK(enc2.finish().empty());
    CHECK(throws([&] { enc2.encode(0, 1); }));
}

static void test_compression_is_near_entropy()
{
    // 100k fair bits at precision 16: output within a few bytes of 12.5 kB.
    const uint32_t cdf[] = { 0, 32768, 65536 };
    std::mt19937_64 rng(7);
    range_encoder enc(16);
    for (int i = 0; i < 100000; ++i)
        enc.encode_symbol(cdf, 2, uint32_t(rng() & 1));
    const size_t size = enc.finish().size();
    CHECK(size >= 12498 && size <= 12504);
}

static void test_bad_arguments()
{
    CHECK(throws([] { range_encoder e(0); }));
    CHECK(throws([] { range_encoder e(32); }));
    range_encoder enc(8);
    CHECK(throws([&] { enc.encode(0, 0); }));
    CHECK(throws([&] { enc.encode(200, 100); }));
    const uint32_t bad_end[] = { 0, 10, 200 };
    CHECK(throws([&] { enc.encode_symbol(bad_end, 2, 0); }));
    const uint32_t zero_freq[] = { 0, 0, 256 };
    CHECK(throws([&] { enc.encode_symbol(zero_freq, 2, 0); }));
    CHECK(throws([&] { enc.encode_symbol(zero_freq, 2, 2); }));
}

static void test_garbage_and_truncation()
{
    // Any bytes decode to some symbols in bounded work; no throw, no hang.
    std::mt19937_64 rng(99);
    for (int trial = 0; trial < 200; ++trial) {
        std::vector<uint8_t> junk(rng() % 64);
        for (auto& b : junk)
            b = uint8_t(rng());
        const unsigned p = 1 + unsigned(rng() % 31);
        const size_t nsym = 1 + rng() % std::min<size_t>(size_t(1) << p, 1000);
        auto cdf = random_cdf(rng, nsym, p, trial % 2);
        range_decoder dec(junk.data(), junk.size(), p);
        bool ok = true;
        for (int i = 0; i < 500; ++i)
            ok = ok && dec.decode_symbol(cdf.data(), nsym) < nsym;
        CHECK(ok);
        CHECK(dec.bytes_read() <= junk.size());
    }
    // Truncating a valid stream changes the decoded tail but stays safe.
    const uint32_t cdf[] = { 0, 100, 200, 256 };
    range_encoder enc(8);
    std::vector<uint32_t> syms(1000);
    for (auto& s : syms)
        s = uint32_t(rng() % 3);
    enc.encode_symbols(syms.data(), syms.size(), cdf, 3);
    auto bytes = enc.finish();
    bytes.resize(bytes.size() / 2);
    range_decoder dec(bytes.data(), bytes.size(), 8);
    std::vector<uint32_t> out(syms.size());
    dec.decode_symbols(out.data(), out.size(), cdf, 3);
    CHECK(dec.bytes_past_end() > 100);
}

static void test_quantizer()
{
    std::mt19937_64 rng(5);
    for (unsigned p : { 16u, 20u, 24u, 31u }) {
        for (size_t n : { size_t(1), size_t(2), size_t(257), size_t(49152), size_t(262144) }) {
            if (n > (size_t(1) << p))
                continue;
            std::vector<float> logits(n);
            std::normal_distribution<float> normal(0.0f, 5.0f);
            for (auto& x : logits)
                x = normal(rng);
            if (n > 2)
                logits[1] = -INFINITY;
            std::vector<uint32_t> cdf(n + 1), again(n + 1);
            logits_to_cdf(logits.data(), n, p, cdf.data());
            logits_to_cdf(logits.data(), n, p, again.data());
            CHECK(cdf == again);
            CHECK(cdf[0] == 0 && cdf[n] == (uint32_t(1) << p));
            bool all_positive = true;
            for (size_t i = 0; i < n; ++i)
                all_positive = all_positive && cdf[i + 1] > cdf[i];
            CHECK(all_positive);
        }
    }
    // Alphabet exactly as large as the total: every symbol frequency 1.
    std::vector<float> flat(256, 0.0f);
    std::vector<uint32_t> cdf(257);
    logits_to_cdf(flat.data(), 256, 8, cdf.data());
    CHECK(cdf[1] == 1 && cdf[256] == 256);
    // Probabilities follow the model: p = 0.75 / 0.25 at precision 16.
    const float probs[] = { 3.0f, 1.0f };
    uint32_t pc[3];
    probs_to_cdf(probs, 2, 16, pc);
    CHECK(pc[1] >= 49150 && pc[1] <= 49154);
    // Bad inputs.
    CHECK(throws([&] { logits_to_cdf(flat.data(), 256, 7, cdf.data()); }));
    flat[3] = NAN;
    CHECK(throws([&] { logits_to_cdf(flat.data(), 256, 16, cdf.data()); }));
    const float negative[] = { 1.0f, -1.0f };
    CHECK(throws([&] { probs_to_cdf(negative, 2, 16, pc); }));
    // All -inf falls back to uniform.
    std::vector<float> dead(4, -INFINITY);
    uint32_t dc[5];
    logits_to_cdf(dead.data(), 4, 4, dc);
    CHECK(dc[1] == 4 && dc[2] == 8 && dc[4] == 16);
}

int main()
{
    test_round_trip_random();
    test_carry_runs();
    test_empty_and_certain();
    test_compression_is_near_entropy();
    test_bad_arguments();
    test_garbage_and_truncation();
    test_quantizer();
    return qa_exit_code("qa_range_coder");
}
