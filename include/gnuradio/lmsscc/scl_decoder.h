// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/*
 * gr-lmsscc: successive-cancellation (SC) and SC-list (SCL) decoding of polar
 * codes given by their frozen set.
 *
 * Code: x = u F with F = [[1,0],[1,1]]^{(x)m} in NATURAL order (no bit
 * reversal), n = 2^m, u_i = 0 on the frozen positions. The decoder walks the
 * code tree in natural order: a node of size s splits its LLRs into halves
 * (l, r); the left child gets f(l, r), the right child g(l, r, a) with a the
 * left child's codeword, and the node's codeword is [a ^ b, b].
 *
 * Arithmetic, LLR domain (internally lambda = ln P(0)/P(1), the polar
 * literature's sign; the interface takes the package's L = ln P(1)/P(0)):
 *   f(a, b)    = sign(a) sign(b) min(|a|, |b|)        min-sum (approximate)
 *   g(a, b, u) = b + (1 - 2u) a                       exact
 *   path metric (Balatsoukas-Stimming, Bastani Parizi, Burg 2015, the
 *   hardware-friendly form): PM += |lambda_i| when the path's u_i differs
 *   from the hard decision of lambda_i, else PM += 0.
 * With min-sum f this metric of a COMPLETE path equals the ML correlation
 * metric sum_{j: x_j != hard(y_j)} |L_j| of its codeword, so SCL with
 * L >= 2^k is exact maximum-likelihood decoding (tested in qa_scl_decoder).
 *
 * Lists: each path holds, per tree depth, an index into a pool of LLR arrays
 * and of bit arrays with reference counts (Tal & Vardy's lazy copy): cloning
 * a path copies indices only, and a path copies an array only when it is
 * about to write one that another path still reads. The output is the
 * codeword of the path with the smallest metric (no CRC). L = 1 is SC.
 */
#ifndef INCLUDED_LMSSCC_SCL_DECODER_H
#define INCLUDED_LMSSCC_SCL_DECODER_H

#include <gnuradio/lmsscc/api.h>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace gr {
namespace lmsscc {

//! x = u F (natural order, n a power of two). u and x may not alias.
LMSSCC_API void polar_transform(const uint8_t* u, size_t n, uint8_t* x);

class LMSSCC_API scl_decoder
{
public:
    /*! frozen[i] != 0 marks u_i frozen (to 0). n = frozen.size() must be a
     *  power of two >= 2, list_size >= 1. Throws std::invalid_argument. */
    scl_decoder(const std::vector<uint8_t>& frozen, unsigned list_size);

    size_t n() const { return d_frozen.size(); }
    size_t k() const { return d_k; }
    unsigned list_size() const { return d_list_size; }
    const std::vector<uint8_t>& frozen() const { return d_frozen; }

    /*! Decode `frames` frames of n LLRs each (package convention: positive
     *  means bit 1) into codewords (frames * n bits, 0/1). Throws
     *  std::invalid_argument on a NaN or infinite LLR (nothing is written).
     *  Thread-safe: each call uses its own workspace. If path_metrics is not
     *  null it receives the chosen path's metric per frame. */
    void decode(const float* llr,
                size_t frames,
                uint8_t* codewords,
                float* path_metrics = nullptr) const;

private:
    std::vector<uint8_t> d_frozen;
    size_t d_k;
    unsigned d_list_size;
    unsigned d_depth; // m = log2(n)
    //! d_rate0[d][j]: node j of depth d (size n >> d) has only frozen bits
    //! (its codeword is 0; decoded in one step, same metric as bit by bit).
    std::vector<std::vector<uint8_t>> d_rate0;
};

} // namespace lmsscc
} // namespace gr

#endif
