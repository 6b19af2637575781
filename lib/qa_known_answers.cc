// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* Known-answer vectors (run by ctest, natively and as an aarch64 build under
 * qemu-user): the committed files in tests/vectors/ pin
 *  - range_coder.txt: the range coder's bytes for fixed CDFs and symbols
 *    (and that they decode back);
 *  - engine_tiny.txt: a digest of the engine's logits for fixed tokens on the
 *    tiny random model (qa_tiny_model.h) on every SIMD path of the CPU, a
 *    digest of the CDFs the quantizer makes of them, and the bytes of the
 *    tokens coded with those CDFs;
 *  - engine_math.txt: digests of the engine's own exp, sin and cos on fixed
 *    grids (their small changes can vanish in the int8 activations of a
 *    tiny model, yet move the logits of a real one).
 * A round trip cannot see a change that alters encoder and decoder alike;
 * such a change would still break every message already sent, and a
 * receiver on another CPU or architecture would disagree with the sender.
 *
 *     qa_known_answers DIR        check the three files in DIR
 *     qa_known_answers --generate range_coder|engine_tiny|engine_math
 *                                 print a new file (intended changes only)
 */

#include <gnuradio/lmsscc/cdf_quantizer.h>
#include <gnuradio/lmsscc/llama_engine.h>
#include <gnuradio/lmsscc/range_coder.h>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "llama_engine_internal.h"
#include "qa_check.h"
#include "qa_tiny_model.h"
#include "qa_vector_file.h"

using namespace gr::lmsscc;

namespace {

/* ---------------------------------------------------------------- range coder */

struct rc_case {
    std::string name;
    bool per_symbol = false; // true: symbol i under cdfs[i % cdfs.size()] via encode_symbol
    unsigned precision = 16;
    std::vector<std::vector<uint32_t>> cdfs;
    std::vector<uint32_t> symbols;
};

const std::vector<uint32_t>& cdf_of(const rc_case& c, size_t i)
{
    return c.cdfs[i % c.cdfs.size()];
}

std::vector<uint8_t> rc_encode(const rc_case& c)
{
    range_encoder enc(c.precision);
    if (c.per_symbol) {
        for (size_t i = 0; i < c.symbols.size(); ++i)
            enc.encode_symbol(cdf_of(c, i).data(), cdf_of(c, i).size() - 1, c.symbols[i]);
    } else {
        enc.encode_symbols(c.symbols.data(), c.symbols.size(), c.cdfs[0].data(),
                           c.cdfs[0].size() - 1);
    }
    return enc.finish();
}

/* The same bytes through encode_symbol, one call per symbol. */
std::vector<uint8_t> rc_encode_one_by_one(const rc_case& c)
{
    range_encoder enc(c.precision);
    for (size_t i = 0; i < c.symbols.size(); ++i)
        enc.encode_symbol(cdf_of(c, i).data(), cdf_of(c, i).size() - 1, c.symbols[i]);
    return enc.finish();
}

std::vector<uint32_t> rc_decode(const rc_case& c, const std::vector<uint8_t>& bytes)
{
    range_decoder dec(bytes.data(), bytes.size(), c.precision);
    std::vector<uint32_t> out(c.symbols.size());
    if (c.per_symbol) {
        for (size_t i = 0; i < out.size(); ++i)
            out[i] = dec.decode_symbol(cdf_of(c, i).data(), cdf_of(c, i).size() - 1);
    } else {
        dec.decode_symbols(out.data(), out.size(), c.cdfs[0].data(), c.cdfs[0].size() - 1);
    }
    return out;
}

/* A symbol drawn with the CDF's own probabilities. */
uint32_t draw(qa::portable_rng& rng, const std::vector<uint32_t>& cdf)
{
    const uint32_t u = rng.word() % cdf.back();
    uint32_t s = 0;
    while (cdf[s + 1] <= u)
        ++s;
    return s;
}

std::vector<rc_case> rc_generated_cases()
{
    std::vector<rc_case> cases;
    qa::portable_rng rng(2026);
    auto add = [&](const std::string& name, bool per_symbol, unsigned precision,
                   std::vector<std::vector<uint32_t>> cdfs, size_t n) {
        rc_case c;
        c.name = name;
        c.per_symbol = per_symbol;
        c.precision = precision;
        c.cdfs = std::move(cdfs);
        for (size_t i = 0; i < n; ++i)
            c.symbols.push_back(draw(rng, cdf_of(c, i)));
        cases.push_back(c);
        return &cases.back();
    };
    add("uniform_p8", false, 8, { { 0, 64, 128, 192, 256 } }, 64);
    add("binary_p1", false, 1, { { 0, 1, 2 } }, 48);
    // Mostly the top symbol of frequency 1: long 0xFF runs and carries through them.
    rc_case* top = add("top_of_range_p16", false, 16, { { 0, 1, 65535, 65536 } }, 600);
    for (size_t i = 0; i < top->symbols.size(); ++i)
        top->symbols[i] = rng.word() % 10 == 0 ? rng.word() % 3 : 2u;
    // A new CDF for every symbol, as with a language model.
    add("varying_p31", true, 31,
        { { 0, 1, 1u << 30, (1u << 30) + 12345, 2000000000u, 1u << 31 },
          { 0, 700000000u, 700000001u, 1500000000u, 2100000000u, 1u << 31 },
          { 0, 5, 10, 15, 20, 1u << 31 } },
        150);
    add("varying_p24", true, 24, { { 0, 3, 16777213, 16777216 }, { 0, 8388608, 16777216 } }, 200);
    add("certain_p16", false, 16, { { 0, 65536 } }, 20); // probability 1 costs no byte
    add("nothing_p12", false, 12, { { 0, 2048, 4096 } }, 0);
    return cases;
}

rc_case rc_from_file(const qa::vector_case& v)
{
    rc_case c;
    c.name = v.name;
    c.per_symbol = v.text("api") == "per_symbol";
    c.precision = unsigned(v.number("precision"));
    for (const auto& line : v.lines.at("cdf"))
        c.cdfs.push_back(qa::parse_numbers<uint32_t>(line));
    c.symbols = qa::parse_numbers<uint32_t>(v.one("symbols"));
    return c;
}

void print_rc_file()
{
    std::printf("# Range coder known answers: the bytes the library must produce for these\n"
                "# CDFs and symbols, and decode back. api static: one CDF, encode_symbols (and\n"
                "# encode_symbol one by one, same bytes); api per_symbol: symbol i under the\n"
                "# (i mod count)-th cdf line. Written by `qa_known_answers --generate\n"
                "# range_coder`; regenerate only for an intended format change, which breaks\n"
                "# every message already sent.\n");
    for (const rc_case& c : rc_generated_cases()) {
        std::printf("\n[range_coder %s]\napi %s\nprecision %u\n", c.name.c_str(),
                    c.per_symbol ? "per_symbol" : "static", c.precision);
        for (const auto& cdf : c.cdfs) {
            std::printf("cdf");
            for (uint32_t v : cdf)
                std::printf(" %u", v);
            std::printf("\n");
        }
        std::printf("symbols");
        for (uint32_t s : c.symbols)
            std::printf(" %u", s);
        std::printf("\nbytes %s\n", qa::to_hex(rc_encode(c)).c_str());
    }
}

void check_rc_case(const qa::vector_case& v)
{
    const rc_case c = rc_from_file(v);
    const std::string expect = qa::joined_hex(v, "bytes");
    const std::vector<uint8_t> bytes = rc_encode(c);
    const std::string got = qa::to_hex(bytes);
    if (got != expect) {
        std::fprintf(stderr, "range coder %s: bytes differ\n  expected %s\n  got      %s\n",
                     c.name.c_str(), expect.c_str(), got.c_str());
        ++g_failures;
    }
    CHECK(qa::to_hex(rc_encode_one_by_one(c)) == expect);
    CHECK(rc_decode(c, bytes) == c.symbols);
    std::printf("range coder %-18s %4zu symbols -> %4zu bytes\n", c.name.c_str(), c.symbols.size(),
                bytes.size());
}

/* ---------------------------------------------------------------- engine */

struct engine_case {
    std::string name;
    int variant = 0;
    uint32_t model_seed = 0;
    unsigned precision = 24;
    std::vector<int> tokens;
};

struct engine_answer {
    std::string logits_digest, cdf_digest, bytes;
};

std::vector<simd_level> available_levels()
{
    std::vector<simd_level> out;
    for (simd_level l : { simd_level::scalar, simd_level::avx2, simd_level::avx512vnni })
        if (simd_supported(l))
            out.push_back(l);
    return out;
}

/* Logits of all tokens in one multi-token step (the prefill path). */
std::vector<float> run_prefill(llama_engine& e, const std::vector<int>& tokens)
{
    std::vector<float> out(tokens.size() * size_t(e.config().n_vocab));
    const int s = e.new_stream();
    const std::vector<int> ids(tokens.size(), s);
    e.step(ids.data(), tokens.data(), int(tokens.size()), out.data());
    e.free_stream(s);
    return out;
}

/* Tokens 1.. coded under the CDFs of the logits after tokens 0..i. */
engine_answer code_tokens(const engine_case& c, const std::vector<float>& logits, int n_vocab)
{
    std::vector<uint32_t> all_cdfs;
    std::vector<std::vector<uint32_t>> cdfs;
    range_encoder enc(c.precision);
    for (size_t i = 0; i + 1 < c.tokens.size(); ++i) {
        std::vector<uint32_t> cdf(size_t(n_vocab) + 1);
        logits_to_cdf(logits.data() + i * size_t(n_vocab), size_t(n_vocab), c.precision,
                      cdf.data());
        enc.encode_symbol(cdf.data(), size_t(n_vocab), uint32_t(c.tokens[i + 1]));
        all_cdfs.insert(all_cdfs.end(), cdf.begin(), cdf.end());
        cdfs.push_back(cdf);
    }
    const std::vector<uint8_t> bytes = enc.finish();
    range_decoder dec(bytes.data(), bytes.size(), c.precision);
    bool same = true;
    for (size_t i = 0; i < cdfs.size(); ++i)
        same =
            same && dec.decode_symbol(cdfs[i].data(), size_t(n_vocab)) == uint32_t(c.tokens[i + 1]);
    CHECK(same);
    return { qa::to_hex64(qa::fnv1a_float_bits(logits)), qa::to_hex64(qa::fnv1a_words(all_cdfs)),
             qa::to_hex(bytes) };
}

/* The answer of every SIMD path, token by token and as one prefill; they
 * must all agree (the first one is returned). report: one line per run. */
engine_answer engine_answers(const engine_case& c, bool report)
{
    engine_answer first;
    bool have_first = false;
    for (simd_level level : available_levels()) {
        llama_engine e(qa::tiny_config(c.variant), 2, level);
        e.set_parallel_min(0.0, 0.0); // split even the tiny products over the threads
        qa::load_tiny(e, c.model_seed);
        for (bool prefill : { false, true }) {
            const auto logits = prefill ? run_prefill(e, c.tokens) : qa::run_single(e, c.tokens);
            const engine_answer a = code_tokens(c, logits, e.config().n_vocab);
            if (report)
                std::printf("engine %-12s %-10s %-7s logits %s\n", c.name.c_str(), simd_name(level),
                            prefill ? "prefill" : "single", a.logits_digest.c_str());
            if (!have_first) {
                first = a;
                have_first = true;
            } else if (a.logits_digest != first.logits_digest || a.bytes != first.bytes) {
                std::fprintf(stderr, "engine %s: %s (%s) differs from %s\n", c.name.c_str(),
                             simd_name(level), prefill ? "prefill" : "single",
                             first.logits_digest.c_str());
                ++g_failures;
            }
        }
    }
    return first;
}

engine_case generated_engine_case(const std::string& name, int variant, uint32_t model_seed,
                                  unsigned precision, int n_tokens, uint32_t token_seed)
{
    engine_case c;
    c.name = name;
    c.variant = variant;
    c.model_seed = model_seed;
    c.precision = precision;
    c.tokens = qa::tiny_tokens(n_tokens, token_seed, qa::tiny_config(variant).n_vocab);
    return c;
}

std::vector<engine_case> engine_generated_cases()
{
    return { generated_engine_case("tiny_gqa3", 0, 7, 24, 48, 21),
             generated_engine_case("tiny_hd16", 1, 8, 16, 40, 22) };
}

void print_engine_file()
{
    std::printf("# Engine known answers: FNV-1a-64 digests of the float32 bits of the logits\n"
                "# after each token (row-major, little-endian) of the tiny random model of\n"
                "# lib/qa_tiny_model.h (variant, model_seed), identical on every SIMD path and\n"
                "# architecture; the digest of the CDFs (32-bit words) the quantizer makes of\n"
                "# them at `precision`; the bytes of tokens 1.. range-coded with those CDFs.\n"
                "# Written by `qa_known_answers --generate engine_tiny`; regenerate only for an\n"
                "# intended change of the engine's numerics (it breaks every message sent).\n");
    for (const engine_case& c : engine_generated_cases()) {
        const engine_answer a = engine_answers(c, false);
        std::printf("\n[engine %s]\nvariant %d\nmodel_seed %u\nprecision %u\ntokens",
                    c.name.c_str(), c.variant, c.model_seed, c.precision);
        for (int t : c.tokens)
            std::printf(" %d", t);
        std::printf("\nlogits_fnv1a64 %s\ncdf_fnv1a64 %s\nbytes %s\n", a.logits_digest.c_str(),
                    a.cdf_digest.c_str(), a.bytes.c_str());
    }
}

void check_engine_case(const qa::vector_case& v)
{
    engine_case c;
    c.name = v.name;
    c.variant = int(v.number("variant"));
    c.model_seed = uint32_t(v.number("model_seed"));
    c.precision = unsigned(v.number("precision"));
    c.tokens = qa::parse_numbers<int>(v.one("tokens"));
    const engine_answer a = engine_answers(c, true);
    const std::pair<std::string, std::string> pinned[] = {
        { "logits_fnv1a64", a.logits_digest },
        { "cdf_fnv1a64", a.cdf_digest },
        { "bytes", a.bytes },
    };
    for (const auto& p : pinned) {
        const std::string expect = qa::joined_hex(v, p.first);
        if (p.second != expect) {
            std::fprintf(stderr, "engine %s: %s does not match\n  expected %s\n  got      %s\n",
                         c.name.c_str(), p.first.c_str(), expect.c_str(), p.second.c_str());
            ++g_failures;
        }
    }
}

/* ---------------------------------------------------------------- own math */

struct grid {
    double start = 0.0, step = 0.0;
    size_t count = 0;
};

grid grid_from(const qa::vector_case& v, const std::string& key)
{
    const auto& w = v.one(key);
    if (w.size() != 3)
        throw std::runtime_error("engine_math " + v.name + ": " + key + " takes start step count");
    return { std::stod(w[0]), std::stod(w[1]), size_t(std::stoull(w[2])) };
}

/* exp of float(start + i*step): the grid values are exact in float. */
std::string exp_digest(const grid& g)
{
    std::vector<float> x(g.count), y(g.count);
    for (size_t i = 0; i < g.count; ++i)
        x[i] = float(g.start + double(i) * g.step);
    engine_exp(x.data(), y.data(), y.size());
    return qa::to_hex64(qa::fnv1a_float_bits(y));
}

/* sin and cos of start + i*step (double), each result as two 32-bit words. */
std::string sincos_digest(const grid& g)
{
    std::vector<uint32_t> words;
    for (size_t i = 0; i < g.count; ++i) {
        const double a = g.start + double(i) * g.step;
        for (double r : { engine_sin(a), engine_cos(a) }) {
            uint64_t b;
            std::memcpy(&b, &r, 8);
            words.push_back(uint32_t(b));
            words.push_back(uint32_t(b >> 32));
        }
    }
    return qa::to_hex64(qa::fnv1a_words(words));
}

const grid EXP_GRID{ -90.0, 45.0 / 2048.0, 8192 };
const grid SINCOS_GRID{ 0.0, 0.37, 4096 };

void print_math_file()
{
    std::printf(
        "# The engine's own exp (float) and sin, cos (double): FNV-1a-64 digests of the\n"
        "# results' bits (little-endian; sin then cos per angle) on the grids\n"
        "# start + i * step, i < count. Written by `qa_known_answers --generate\n"
        "# engine_math`; regenerate only for an intended change of the engine's numerics.\n");
    std::printf("\n[engine_math own_functions]\nexp_grid %.17g %.17g %zu\nexp_fnv1a64 %s\n",
                EXP_GRID.start, EXP_GRID.step, EXP_GRID.count, exp_digest(EXP_GRID).c_str());
    std::printf("sincos_grid %.17g %.17g %zu\nsincos_fnv1a64 %s\n", SINCOS_GRID.start,
                SINCOS_GRID.step, SINCOS_GRID.count, sincos_digest(SINCOS_GRID).c_str());
}

void check_math_case(const qa::vector_case& v)
{
    const std::pair<std::string, std::string> pinned[] = {
        { "exp_fnv1a64", exp_digest(grid_from(v, "exp_grid")) },
        { "sincos_fnv1a64", sincos_digest(grid_from(v, "sincos_grid")) },
    };
    for (const auto& p : pinned) {
        const std::string expect = qa::joined_hex(v, p.first);
        if (p.second != expect) {
            std::fprintf(stderr,
                         "engine_math %s: %s does not match\n  expected %s\n  got      %s\n",
                         v.name.c_str(), p.first.c_str(), expect.c_str(), p.second.c_str());
            ++g_failures;
        }
    }
    std::printf("engine_math %s: exp %s, sin/cos %s\n", v.name.c_str(), pinned[0].second.c_str(),
                pinned[1].second.c_str());
}

/* Every case of a file; a file without cases is an error, not a pass. */
template <class F>
void check_file(const std::string& path, const std::string& kind, F check)
{
    int n = 0;
    for (const auto& v : qa::read_vector_file(path)) {
        if (v.kind != kind)
            throw std::runtime_error(path + ": unexpected section kind " + v.kind);
        check(v);
        ++n;
    }
    std::printf("%s: %d case(s)\n", path.c_str(), n);
    CHECK(n > 0);
}

} // namespace

int main(int argc, char** argv)
{
    const std::string arg = argc > 1 ? argv[1] : "";
    if (arg == "--generate" && argc == 3 && std::string(argv[2]) == "range_coder") {
        print_rc_file();
        return 0;
    }
    if (arg == "--generate" && argc == 3 && std::string(argv[2]) == "engine_tiny") {
        print_engine_file();
        return 0;
    }
    if (arg == "--generate" && argc == 3 && std::string(argv[2]) == "engine_math") {
        print_math_file();
        return 0;
    }
    if (argc != 2 || arg.empty() || arg[0] == '-') {
        std::fprintf(stderr,
                     "usage: %s VECTOR_DIR | --generate range_coder|engine_tiny|engine_math\n",
                     argv[0]);
        return 2;
    }
    std::printf("SIMD paths:");
    for (simd_level l : available_levels())
        std::printf(" %s", simd_name(l));
    std::printf("\n");
    try {
        check_file(arg + "/range_coder.txt", "range_coder", check_rc_case);
        check_file(arg + "/engine_tiny.txt", "engine", check_engine_case);
        check_file(arg + "/engine_math.txt", "engine_math", check_math_case);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "qa_known_answers: %s\n", e.what());
        return 1;
    }
    return qa_exit_code("qa_known_answers");
}
