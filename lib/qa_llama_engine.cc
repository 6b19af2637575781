// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* Unit tests of the deterministic Llama engine (run by ctest):
 *  - half float conversions;
 *  - block-quantized matrix products: every SIMD path available on this CPU
 *    gives results bit-identical to the written-out definition
 *    (qmatmul_reference), for 4- and 8-bit weights, odd row counts and every
 *    batch size up to 19;
 *  - own exp / sin / cos accuracy;
 *  - a tiny random model: logits are bit-identical across thread counts,
 *    SIMD paths, batch-mates, multi-token steps and stream resets.
 * `qa_llama_engine --digest` prints a digest of a tiny model's logits, used to
 * compare separate builds (see lib/CMakeLists.txt). */

#include <gnuradio/lmsscc/llama_engine.h>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "llama_engine_internal.h"
#include "qa_check.h"
#include "qa_tiny_model.h"

using namespace gr::lmsscc;

static bool same_bits(const std::vector<float>& a, const std::vector<float>& b)
{
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

static std::vector<simd_level> available_levels()
{
    std::vector<simd_level> out;
    for (simd_level l : { simd_level::scalar, simd_level::avx2, simd_level::avx512vnni })
        if (simd_supported(l))
            out.push_back(l);
    return out;
}

static void test_half()
{
    int bad = 0;
    for (uint32_t h = 0; h < 65536; ++h) {
        const uint16_t hh = uint16_t(h);
        const bool nan = ((hh >> 10) & 0x1f) == 31 && (hh & 0x3ff) != 0;
        if (nan)
            continue;
        if (float_to_half(half_to_float(hh)) != hh)
            ++bad;
    }
    CHECK(bad == 0);
    CHECK(half_to_float(0x3c00) == 1.0f);
    CHECK(half_to_float(0xc000) == -2.0f);
    CHECK(half_to_float(0x0001) == 5.9604644775390625e-08f);
    CHECK(float_to_half(1.0f + 1.0f / 4096.0f) == 0x3c00); // ties to even
    CHECK(float_to_half(65520.0f) == 0x7c00);              // rounds to inf
}

static void test_qmatrix_formats()
{
    qa::portable_rng rng(1);
    const int rows = 21, cols = 64;
    const auto raw4 = qa::random_q4_1(rng, rows, cols, 0.005f, 0.08f);
    const qmatrix w4 = qmatrix::from_q4_1(raw4.data(), rows, cols);
    int bad = 0;
    for (int r = 0; r < rows; ++r)
        for (int k = 0; k < cols; ++k) {
            const uint8_t* blk = raw4.data() + (size_t(r) * 2 + k / 32) * 20;
            uint16_t dh, mh;
            std::memcpy(&dh, blk, 2);
            std::memcpy(&mh, blk + 2, 2);
            const int kk = k % 32;
            const unsigned u = kk < 16 ? (blk[4 + kk] & 15u) : (blk[4 + kk - 16] >> 4);
            const float expect = half_to_float(dh) * float(u) + half_to_float(mh);
            bad += w4.unit(r, k) != u;
            bad += w4.weight(r, k) != expect;
        }
    CHECK(bad == 0);
    const auto raw8 = qa::random_q8_0(rng, rows, cols, 0.01f / 16.0f);
    const qmatrix w8 = qmatrix::from_q8_0(raw8.data(), rows, cols);
    bad = 0;
    for (int r = 0; r < rows; ++r)
        for (int k = 0; k < cols; ++k) {
            const uint8_t* blk = raw8.data() + (size_t(r) * 2 + k / 32) * 34;
            uint16_t dh;
            std::memcpy(&dh, blk, 2);
            const int q = int8_t(blk[2 + k % 32]);
            bad += w8.weight(r, k) != half_to_float(dh) * float(q);
            bad += int(w8.unit(r, k)) != q + 128;
        }
    CHECK(bad == 0);
    // from_float: reconstruction within half a step (plus half rounding)
    std::vector<float> src(size_t(rows) * cols);
    for (auto& v : src)
        v = rng.normal();
    const qmatrix wf = qmatrix::from_float(src.data(), rows, cols, 8);
    float worst = 0.0f;
    for (int r = 0; r < rows; ++r)
        for (int k = 0; k < cols; ++k)
            worst = std::max(worst, std::fabs(wf.weight(r, k) - src[size_t(r) * cols + k]));
    CHECK(worst < 0.03f);
}

static void test_matmul_paths()
{
    qa::portable_rng rng(2);
    const auto levels = available_levels();
    std::printf("SIMD paths tested:");
    for (auto l : levels)
        std::printf(" %s", simd_name(l));
    std::printf(" (best: %s)\n", simd_name(best_simd()));
    for (int bits : { 4, 8 }) {
        for (int rows : { 1, 16, 37, 64 }) {
            const int cols = 96;
            std::vector<uint8_t> raw = bits == 4 ? qa::random_q4_1(rng, rows, cols, 0.005f, 0.08f)
                                                 : qa::random_q8_0(rng, rows, cols, 0.01f / 16.0f);
            const qmatrix w = bits == 4 ? qmatrix::from_q4_1(raw.data(), rows, cols)
                                        : qmatrix::from_q8_0(raw.data(), rows, cols);
            for (int n = 1; n <= 19; n += (n < 10 ? 1 : 9)) {
                std::vector<float> x(size_t(n) * cols);
                for (auto& v : x) {
                    const float outlier = n % 2 == 1 && rng.word() % 4 == 0 ? 30.0f : 1.0f;
                    v = rng.normal() * outlier; // outliers for odd n
                }
                for (int k = 0; k < 32; ++k)
                    x[size_t(k)] = 0.0f; // an all-zero block
                qactivations qa;
                quantize_activations(x.data(), n, cols, qa);
                std::vector<float> ref(size_t(n) * rows);
                qmatmul_reference(w, qa, ref.data());
                for (auto l : levels) {
                    std::vector<float> y(size_t(n) * rows, -1.0f);
                    qmatmul(w, qa, y.data(), 0, w.groups(), l);
                    if (!same_bits(y, ref)) {
                        std::fprintf(stderr, "mismatch bits=%d rows=%d n=%d path=%s\n", bits, rows,
                                     n, simd_name(l));
                        ++g_failures;
                    }
                    // split over row groups (as threads do) changes nothing
                    std::vector<float> y2(size_t(n) * rows, -2.0f);
                    for (int g = 0; g < w.groups(); ++g)
                        qmatmul(w, qa, y2.data(), g, g + 1, l);
                    CHECK(same_bits(y2, ref));
                }
                // the quantized product approximates the float product
                double err = 0.0, mag = 0.0;
                for (int t = 0; t < n; ++t)
                    for (int r = 0; r < rows; ++r) {
                        double exact = 0.0;
                        for (int k = 0; k < cols; ++k)
                            exact += double(w.weight(r, k)) * x[size_t(t) * cols + k];
                        err += std::fabs(exact - ref[size_t(t) * rows + r]);
                        mag += std::fabs(exact);
                    }
                if (n % 2 == 0) {
                    if (!(err <= 0.02 * mag))
                        std::fprintf(stderr, "relative error %g\n", err / mag);
                    CHECK(err <= 0.02 * mag);
                }
            }
        }
    }
    // activation quantization: round half to even, symmetric, exact sums
    qactivations qa;
    std::vector<float> x(32, 0.0f);
    x[0] = 127.0f;
    x[1] = 0.5f;
    x[2] = 1.5f;
    x[3] = -2.5f;
    quantize_activations(x.data(), 1, 32, qa);
    CHECK(qa.q[0] == 127 && qa.q[1] == 0 && qa.q[2] == 2 && qa.q[3] == -2);
    CHECK(qa.scale[0] == 1.0f && qa.sum[0] == 127);
}

static void test_math()
{
    std::vector<float> x, y;
    for (float v = -87.0f; v <= 88.0f; v += 0.01171875f)
        x.push_back(v);
    y.resize(x.size());
    engine_exp(x.data(), y.data(), x.size());
    double worst = 0.0;
    for (size_t i = 0; i < x.size(); ++i)
        worst = std::max(worst, std::fabs(double(y[i]) / std::exp(double(x[i])) - 1.0));
    std::printf("engine_exp max relative error %.3g\n", worst);
    CHECK(worst < 5e-7);
    float zero = 0.0f, one;
    engine_exp(&zero, &one, 1);
    CHECK(one == 1.0f);
    double ws = 0.0;
    for (double a = 0.0; a < 20000.0; a += 0.37)
        ws = std::max(ws, std::max(std::fabs(engine_sin(a) - std::sin(a)),
                                   std::fabs(engine_cos(a) - std::cos(a))));
    std::printf("engine_sin/cos max abs error %.3g\n", ws);
    CHECK(ws < 1e-12);
}

/* ---- tiny random model (qa_tiny_model.h) */

static std::vector<int> tiny_tokens(int n, unsigned seed) { return qa::tiny_tokens(n, seed, 200); }

static void test_engine(int variant)
{
    const llama_config c = qa::tiny_config(variant);
    const int V = c.n_vocab;
    const auto toks_a = tiny_tokens(40, 11), toks_b = tiny_tokens(25, 12);
    llama_engine e(c, 1, simd_level::scalar);
    e.set_parallel_min(0.0, 0.0); // split even the tiny products over threads
    qa::load_tiny(e, 7);
    CHECK(e.ready());
    const auto ref_a = qa::run_single(e, toks_a);
    const auto ref_b = qa::run_single(e, toks_b);
    CHECK(!same_bits(std::vector<float>(ref_a.begin(), ref_a.begin() + V),
                     std::vector<float>(ref_a.begin() + V, ref_a.begin() + 2 * V)));
    bool finite = true;
    for (float v : ref_a)
        finite = finite && std::isfinite(v);
    CHECK(finite);

    // threads x SIMD paths
    for (int threads : { 1, 2, 3, 5 })
        for (auto l : available_levels()) {
            e.set_threads(threads);
            e.set_simd(l);
            if (!same_bits(qa::run_single(e, toks_a), ref_a)) {
                std::fprintf(stderr, "engine mismatch threads=%d path=%s\n", threads, simd_name(l));
                ++g_failures;
            }
        }
    e.set_threads(2);
    e.set_simd(best_simd());

    // batch: A and B interleaved (B starts later), one step call per round
    {
        const int sa = e.new_stream(), sb = e.new_stream(), sc = e.new_stream();
        std::vector<float> got_a, got_b;
        const auto toks_c = tiny_tokens(40, 13);
        for (size_t i = 0; i < toks_a.size(); ++i) {
            std::vector<int> ids{ sa, sc }, tk{ toks_a[i], toks_c[i] };
            const size_t j = i >= 15 ? i - 15 : size_t(-1);
            if (j != size_t(-1) && j < toks_b.size()) {
                ids.insert(ids.begin(), sb); // B first in the batch
                tk.insert(tk.begin(), toks_b[j]);
            }
            std::vector<float> out(ids.size() * size_t(V));
            e.step(ids.data(), tk.data(), int(ids.size()), out.data());
            const size_t ia = ids.size() == 3 ? 1 : 0;
            got_a.insert(got_a.end(), out.begin() + ia * V, out.begin() + (ia + 1) * V);
            if (ids.size() == 3)
                got_b.insert(got_b.end(), out.begin(), out.begin() + V);
        }
        CHECK(same_bits(got_a, ref_a));
        CHECK(same_bits(got_b, ref_b));
        e.free_stream(sa);
        e.free_stream(sb);
        e.free_stream(sc);
    }

    // multi-token steps (prefill in chunks of 1..13 tokens) == token by token
    for (int chunk : { 3, 8, 13, 40 }) {
        const int s = e.new_stream();
        std::vector<float> got(toks_a.size() * size_t(V));
        for (size_t i = 0; i < toks_a.size(); i += size_t(chunk)) {
            const int m = int(std::min(toks_a.size() - i, size_t(chunk)));
            std::vector<int> ids(size_t(m), s);
            e.step(ids.data(), &toks_a[i], m, got.data() + i * V);
        }
        CHECK(e.stream_position(s) == int(toks_a.size()));
        if (!same_bits(got, ref_a)) {
            std::fprintf(stderr, "prefill chunk %d differs\n", chunk);
            ++g_failures;
        }
        e.reset_stream(s);
        CHECK(e.stream_position(s) == 0);
        std::vector<float> again(static_cast<size_t>(V));
        e.step(&s, &toks_a[0], 1, again.data());
        CHECK(std::memcmp(again.data(), ref_a.data(), V * sizeof(float)) == 0);
        e.free_stream(s);
    }

    // a second engine (fresh process state) reproduces the logits
    {
        llama_engine e2(c, 2, best_simd());
        e2.set_parallel_min(0.0, 0.0);
        qa::load_tiny(e2, 7);
        CHECK(same_bits(qa::run_single(e2, toks_a), ref_a));
    }

    // errors: bad token, bad stream, context overflow
    {
        const int s = e.new_stream();
        int bad = V;
        std::vector<float> out(static_cast<size_t>(V));
        bool threw = false;
        try {
            e.step(&s, &bad, 1, out.data());
        } catch (const std::invalid_argument&) {
            threw = true;
        }
        CHECK(threw);
        int other = 99;
        threw = false;
        try {
            e.step(&other, &toks_a[0], 1, out.data());
        } catch (const std::invalid_argument&) {
            threw = true;
        }
        CHECK(threw);
        CHECK(e.stream_position(s) == 0);
        e.free_stream(s);
    }
}

static std::string digest_string()
{
    llama_engine e(qa::tiny_config(0), 2, best_simd());
    qa::load_tiny(e, 7);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%016llx",
                  (unsigned long long)qa::fnv1a_float_bits(qa::run_single(e, tiny_tokens(60, 21))));
    return buf;
}

/* Run other builds with --digest and compare with this one's digest. */
static int compare_builds(int argc, char** argv)
{
    const std::string mine = digest_string();
    std::printf("%-60s %s (%s)\n", argv[0], mine.c_str(), simd_name(best_simd()));
    int bad = 0;
    for (int i = 2; i < argc; ++i) {
        const std::string cmd = std::string("\"") + argv[i] + "\" --digest";
        FILE* p = popen(cmd.c_str(), "r");
        char line[128] = { 0 };
        const bool ok = p && std::fgets(line, sizeof line, p) != nullptr;
        const int rc = p ? pclose(p) : -1;
        std::string other = ok ? std::string(line) : std::string();
        while (!other.empty() && (other.back() == '\n' || other.back() == ' '))
            other.pop_back();
        const std::string d = other.substr(0, other.find(' '));
        std::printf("%-60s %s\n", argv[i], other.c_str());
        if (!ok || rc != 0 || d != mine)
            ++bad;
    }
    if (bad)
        std::fprintf(stderr, "%d build(s) give different logits\n", bad);
    else
        std::printf("all builds give bit-identical logits\n");
    return bad ? 1 : 0;
}

int main(int argc, char** argv)
{
    if (argc > 1 && std::string(argv[1]) == "--digest") {
        std::printf("%s %s\n", digest_string().c_str(), simd_name(best_simd()));
        return 0;
    }
    if (argc > 1 && std::string(argv[1]) == "--compare")
        return compare_builds(argc, argv);
    test_half();
    test_qmatrix_formats();
    test_matmul_paths();
    test_math();
    test_engine(0);
    test_engine(1);
    return qa_exit_code("qa_llama_engine");
}
