// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* A tiny random Llama model for the engine's C++ tests and known-answer
 * vectors. Its weights come only from std::mt19937 words (fully specified by
 * the C++ standard) turned into floats by exact IEEE operations: no
 * std::*_distribution and no libm, whose results differ between standard
 * libraries, CPUs and architectures. So the same seed gives the same model on
 * x86-64 and aarch64, and a logits digest can be committed. */
#ifndef INCLUDED_LMSSCC_QA_TINY_MODEL_H
#define INCLUDED_LMSSCC_QA_TINY_MODEL_H

#include <gnuradio/lmsscc/llama_engine.h>
#include <cstdint>
#include <random>
#include <vector>

namespace qa {

//! Portable pseudo-random numbers from one std::mt19937.
class portable_rng
{
public:
    explicit portable_rng(uint32_t seed) : gen_(seed) {}
    uint32_t word() { return uint32_t(gen_()); }
    uint8_t byte() { return uint8_t(word() >> 24); }
    //! [0, 1) in steps of 2^-24 (exact in float).
    float uniform() { return float(word() >> 8) * 5.9604644775390625e-08f; }
    //! Mean 0, variance 1: a sum of four uniforms (Irwin-Hall), rescaled.
    float normal();

private:
    std::mt19937 gen_;
};

//! Raw GGUF blocks with random units: Q4_1 (scales |N(0, d_sigma)|, offsets
//! N(0, m_sigma)) and Q8_0 (scales |N(0, d_sigma)|, all int8 values).
std::vector<uint8_t> random_q4_1(portable_rng& rng, int rows, int cols, float d_sigma,
                                 float m_sigma);
std::vector<uint8_t> random_q8_0(portable_rng& rng, int rows, int cols, float d_sigma);

//! Variant 0: head_dim 64, 3 query heads per KV head (as SmolLM2);
//! variant 1: head_dim 16 (the generic attention path), 2 per KV head.
gr::lmsscc::llama_config tiny_config(int variant);
//! Random weights for e's configuration from `seed`.
void load_tiny(gr::lmsscc::llama_engine& e, uint32_t seed);
//! n token ids below n_vocab from `seed`.
std::vector<int> tiny_tokens(int n, uint32_t seed, int n_vocab);

//! Token-by-token logits of one stream (n x n_vocab).
std::vector<float> run_single(gr::lmsscc::llama_engine& e, const std::vector<int>& tokens);

//! FNV-1a (64 bits) over the IEEE bits of the floats, little-endian bytes.
uint64_t fnv1a_float_bits(const std::vector<float>& v);
//! FNV-1a (64 bits) over 32-bit words, little-endian bytes.
uint64_t fnv1a_words(const std::vector<uint32_t>& v);

} // namespace qa

#endif
