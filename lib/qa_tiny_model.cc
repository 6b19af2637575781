// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* The tiny random model of the engine's tests; see qa_tiny_model.h. */

#include "qa_tiny_model.h"
#include "llama_engine_internal.h"
#include <cmath>
#include <cstring>

using namespace gr::lmsscc;

namespace qa {

float portable_rng::normal()
{
    // One statement per draw: the order of the four draws is fixed.
    float sum = uniform();
    sum = sum + uniform();
    sum = sum + uniform();
    sum = sum + uniform();
    return (sum - 2.0f) * 1.7320508f; // variance of the sum is 4/12
}

std::vector<uint8_t> random_q4_1(portable_rng& rng, int rows, int cols, float d_sigma,
                                 float m_sigma)
{
    std::vector<uint8_t> raw(size_t(rows) * size_t(cols / 32) * 20);
    for (size_t i = 0; i < raw.size(); i += 20) {
        const uint16_t d = float_to_half(std::fabs(rng.normal()) * d_sigma);
        const uint16_t m = float_to_half(rng.normal() * m_sigma);
        std::memcpy(&raw[i], &d, 2);
        std::memcpy(&raw[i + 2], &m, 2);
        for (int j = 0; j < 16; ++j)
            raw[i + 4 + size_t(j)] = rng.byte();
    }
    return raw;
}

std::vector<uint8_t> random_q8_0(portable_rng& rng, int rows, int cols, float d_sigma)
{
    std::vector<uint8_t> raw(size_t(rows) * size_t(cols / 32) * 34);
    for (size_t i = 0; i < raw.size(); i += 34) {
        const uint16_t d = float_to_half(std::fabs(rng.normal()) * d_sigma);
        std::memcpy(&raw[i], &d, 2);
        for (int j = 0; j < 32; ++j)
            raw[i + 2 + size_t(j)] = rng.byte(); // includes -128
    }
    return raw;
}

llama_config tiny_config(int variant)
{
    llama_config c;
    c.n_layer = 2;
    c.n_vocab = 200;
    c.rms_eps = 1e-5f;
    c.rope_theta = 10000.0f;
    c.n_ctx_max = 256;
    if (variant == 1) {
        c.n_embd = 64;
        c.n_head = 4;
        c.n_head_kv = 2;
        c.n_ff = 96;
    } else {
        c.n_embd = 192;
        c.n_head = 3;
        c.n_head_kv = 1;
        c.n_ff = 160;
    }
    return c;
}

namespace {

/* Large scales with offsets -7.5 d (units 0..15 centred on zero), so that the
 * tiny model's attention and activations are far from trivial. */
qmatrix centred_q4_1(portable_rng& rng, int rows, int cols)
{
    std::vector<uint8_t> raw = random_q4_1(rng, rows, cols, 0.2f, 0.0f);
    for (size_t i = 0; i < raw.size(); i += 20) {
        uint16_t d;
        std::memcpy(&d, &raw[i], 2);
        const uint16_t m = float_to_half(-7.5f * half_to_float(d));
        std::memcpy(&raw[i + 2], &m, 2);
    }
    return qmatrix::from_q4_1(raw.data(), rows, cols);
}

std::vector<float> norm_weights(portable_rng& rng, int n)
{
    std::vector<float> w(static_cast<size_t>(n));
    for (auto& v : w)
        v = 1.0f + 0.2f * rng.normal();
    return w;
}

} // namespace

void load_tiny(llama_engine& e, uint32_t seed)
{
    portable_rng rng(seed);
    const llama_config& c = e.config();
    const int kv = c.n_embd / c.n_head * c.n_head_kv;
    const auto emb = random_q8_0(rng, c.n_vocab, c.n_embd, 0.01f / 16.0f);
    e.set_token_embedding(qmatrix::from_q8_0(emb.data(), c.n_vocab, c.n_embd));
    e.set_output_norm(norm_weights(rng, c.n_embd));
    for (int l = 0; l < c.n_layer; ++l) {
        llama_layer L;
        L.attn_norm = norm_weights(rng, c.n_embd);
        L.ffn_norm = norm_weights(rng, c.n_embd);
        L.wqkv = centred_q4_1(rng, c.n_embd + 2 * kv, c.n_embd);
        L.wo = centred_q4_1(rng, c.n_embd, c.n_embd);
        L.w_gate_up = centred_q4_1(rng, 2 * c.n_ff, c.n_embd);
        L.w_down = centred_q4_1(rng, c.n_embd, c.n_ff);
        e.set_layer(l, L);
    }
}

std::vector<int> tiny_tokens(int n, uint32_t seed, int n_vocab)
{
    portable_rng rng(seed);
    std::vector<int> t(static_cast<size_t>(n));
    for (auto& v : t)
        v = int(rng.word() % uint32_t(n_vocab));
    return t;
}

std::vector<float> run_single(llama_engine& e, const std::vector<int>& tokens)
{
    const size_t V = size_t(e.config().n_vocab);
    std::vector<float> out(tokens.size() * V);
    const int s = e.new_stream();
    for (size_t i = 0; i < tokens.size(); ++i)
        e.step(&s, &tokens[i], 1, out.data() + i * V);
    e.free_stream(s);
    return out;
}

namespace {

constexpr uint64_t FNV_OFFSET = 1469598103934665603ull;
constexpr uint64_t FNV_PRIME = 1099511628211ull;

uint64_t fnv1a_word(uint64_t h, uint32_t w)
{
    for (int i = 0; i < 4; ++i) {
        h ^= (w >> (8 * i)) & 0xffu;
        h *= FNV_PRIME;
    }
    return h;
}

} // namespace

uint64_t fnv1a_float_bits(const std::vector<float>& v)
{
    uint64_t h = FNV_OFFSET;
    for (float f : v) {
        uint32_t w;
        std::memcpy(&w, &f, 4);
        h = fnv1a_word(h, w);
    }
    return h;
}

uint64_t fnv1a_words(const std::vector<uint32_t>& v)
{
    uint64_t h = FNV_OFFSET;
    for (uint32_t w : v)
        h = fnv1a_word(h, w);
    return h;
}

} // namespace qa
