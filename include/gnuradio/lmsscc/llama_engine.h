// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/*
 * gr-lmsscc: a deterministic CPU inference engine for Llama-architecture
 * language models stored as GGUF (Q4_1 / Q8_0 blocks), built for arithmetic
 * coding: the logits of every token are a pure function of (model, tokens).
 *
 * Numerics (docs/engine.md has the full contract):
 *  - Weights stay in their GGUF blocks of 32: w = d*u + m with u an unsigned
 *    4-bit (Q4_1) or 8-bit (Q8_0, u = q + 128, m = -128 d) integer and d, m
 *    IEEE half floats. No re-quantization: the weights are exactly the file's.
 *  - Activations are quantized per token and per block of 32 to int8 with
 *    a float scale (round half to even), never across tokens or streams.
 *  - A block's dot product sum(u * x) is an exact int32; a row's result is the
 *    float sum over blocks, in block order, of (d*isum + m*xsum) * xscale,
 *    every operation separately rounded (no FMA; the project builds with
 *    -ffp-contract=off and without -ffast-math).
 *  - SIMD paths (AVX-512 VNNI, AVX2, scalar) assign one output row per lane
 *    and run that exact sequence, so all paths give bit-identical results.
 *  - Threads split only over output rows (matrix products) or over
 *    (token, head) pairs (attention); no reduction is ever split.
 *  - RMSNorm, softmax and the attention sums use fixed orders; exp, sin, cos
 *    are the engine's own (no libm), so results do not depend on the C library.
 */
#ifndef INCLUDED_LMSSCC_LLAMA_ENGINE_H
#define INCLUDED_LMSSCC_LLAMA_ENGINE_H

#include <gnuradio/lmsscc/api.h>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gr {
namespace lmsscc {

/* Kernel paths. All give identical results; "best" is the fastest one that is
 * both compiled in and supported by the running CPU. */
enum class simd_level : int { scalar = 0, avx2 = 1, avx512vnni = 2 };
LMSSCC_API simd_level best_simd();
LMSSCC_API bool simd_supported(simd_level level);
LMSSCC_API const char* simd_name(simd_level level);
/* "scalar", "avx2", "avx512vnni" or "auto" (= best_simd()). */
LMSSCC_API simd_level parse_simd(const std::string& name);

constexpr int QBLOCK = 32; // weights/activations per quantization block
constexpr int QGROUP = 16; // rows stored interleaved (one SIMD lane per row)

/* A rows x cols matrix in blocks of 32 columns: w[r][k] = d*u + m. Stored in
 * groups of 16 rows; each (group, block) chunk holds the 16x32 integers
 * interleaved 4 columns at a time (one SIMD lane per row), then 16 d and
 * 16 m half floats. */
class LMSSCC_API qmatrix
{
public:
    qmatrix() = default;
    /* GGUF/ggml block formats, rows stored one after another. */
    static qmatrix from_q4_1(const uint8_t* blocks, int rows, int cols);
    static qmatrix from_q8_0(const uint8_t* blocks, int rows, int cols);
    /* Quantize float weights (min/max per block) to 4 or 8 bits (a GGUF
     * file's F32 matrices; tests). */
    static qmatrix from_float(const float* w, int rows, int cols, int bits);

    int rows() const { return rows_; }
    int cols() const { return cols_; }
    int bits() const { return bits_; }
    int groups() const { return (rows_ + QGROUP - 1) / QGROUP; }
    int blocks() const { return cols_ / QBLOCK; }
    size_t chunk_bytes() const;
    size_t bytes() const { return size_; }
    const uint8_t* chunk(int group, int block) const;

    unsigned unit(int r, int k) const; // the integer u
    float block_d(int r, int b) const;
    float block_m(int r, int b) const;
    /* Dequantized weight, as the GGUF reference computes it: d*u + m
     * (Q8_0: d*q, q = u - 128). */
    float weight(int r, int k) const;
    void dequantize_row(int r, float* out) const;

private:
    void allocate(int rows, int cols, int bits);
    uint8_t* chunk_mut(int group, int block);
    void set_unit(int r, int k, unsigned u);
    void set_scales(int r, int b, uint16_t d, uint16_t m);

    int rows_ = 0, cols_ = 0, bits_ = 8;
    bool q8_signed_ = false;
    size_t size_ = 0;
    std::shared_ptr<uint8_t> data_;
};

struct llama_config {
    int n_layer = 0;
    int n_embd = 0;
    int n_head = 0;
    int n_head_kv = 0;
    int n_ff = 0;
    int n_vocab = 0;
    float rms_eps = 1e-5f;
    float rope_theta = 10000.0f;
    int n_ctx_max = 16384; // per stream
};

/* Per-layer weights. wqkv: rows [q (n_embd); k (kv); v (kv)];
 * w_gate_up: rows [gate (n_ff); up (n_ff)]. q/k rows in GGUF order (RoPE on
 * adjacent pairs). */
struct llama_layer {
    std::vector<float> attn_norm;
    qmatrix wqkv;
    qmatrix wo;
    std::vector<float> ffn_norm;
    qmatrix w_gate_up;
    qmatrix w_down;
};

class LMSSCC_API llama_engine
{
public:
    llama_engine(const llama_config& config, int threads = 1, simd_level level = best_simd());
    ~llama_engine();
    llama_engine(const llama_engine&) = delete;
    llama_engine& operator=(const llama_engine&) = delete;

    const llama_config& config() const;
    void set_token_embedding(const qmatrix& embd);
    void set_output(const qmatrix& output); // default: the token embedding (tied)
    void set_output_norm(const std::vector<float>& w);
    void set_layer(int index, const llama_layer& layer);
    bool ready() const;

    /* Streams: independent KV caches. */
    int new_stream();
    //! A new stream with a copy of stream src's KV cache (e.g. a primed prefix).
    int copy_stream(int src);
    void free_stream(int id);
    void reset_stream(int id);
    int stream_position(int id) const; // tokens fed so far
    int live_streams() const;

    /* Feed tokens[i] to stream streams[i], i < n, in order (a stream may
     * appear several times: consecutive positions), and write the logits for
     * the next token after each into logits[i*n_vocab ...]. Each entry's
     * logits are bit-identical to feeding the same tokens one at a time, with
     * any batch-mates, any thread count and any SIMD path. */
    void step(const int* streams, const int* tokens, int n, float* logits);

    void set_threads(int threads);
    int threads() const;
    /* Work below which a matrix product (n x rows x cols multiply-adds) or
     * the attention (sum of positions x heads) stays on the calling thread.
     * Scheduling only: results never change. */
    void set_parallel_min(double macs, double attention);
    void set_simd(simd_level level);
    simd_level simd() const;
    size_t weight_bytes() const;
    size_t cache_bytes() const;

private:
    struct impl;
    std::unique_ptr<impl> d_;
};

} // namespace lmsscc
} // namespace gr

#endif
