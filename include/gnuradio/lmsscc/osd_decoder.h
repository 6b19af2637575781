// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/*
 * gr-lmsscc: ordered-statistics decoding (OSD, Fossorier & Lin 1995) of any
 * binary linear code.
 *
 * Per frame:
 *  1. sort the n positions by reliability (|LLR| unless the caller passes
 *     other "ordering reliabilities"), most reliable first;
 *  2. Gauss-Jordan eliminate the column-permuted generator, scanning columns
 *     in that order: the first k independent columns are the most reliable
 *     independent positions (MRIP) and the generator becomes the identity on
 *     them;
 *  3. hard-decide the MRIP and re-encode every test pattern of Hamming weight
 *     <= order flipped on the MRIP;
 *  4. keep the candidate with the smallest discrepancy, the sum of |LLR| over
 *     the positions where it disagrees with the hard decision (on BPSK with
 *     exact LLRs that is the most likely candidate).
 *
 * Rows are bitsets of uint64 words, so n is only limited by memory and time.
 *
 * Two optional rules save work; both are proven bounds, so they never change
 * the decoded word relative to the exhaustive order-k search (the test suite
 * checks this):
 *  - prune: a test pattern's discrepancy is at least the |LLR| sum of the MRIP
 *    it flips, so patterns (and whole branches of the pattern enumeration)
 *    whose flips alone reach the best discrepancy are skipped, and a
 *    candidate's discrepancy sum stops as soon as it reaches the best one;
 *  - early_stop: sufficient optimality (Taipale & Pursley 1991; Kaneko et al.
 *    1994): every other codeword differs from the best candidate c in >= d_min
 *    positions, so its discrepancy is at least the sum of the (d_min - |D|)
 *    smallest reliabilities outside c's discrepancy set D; when c's
 *    discrepancy is below that, c is the maximum-likelihood codeword and the
 *    search stops. d_min (or a lower bound of it, which keeps the rule valid)
 *    is computed at construction (options::dmin).
 *
 * Candidates replace the best one only when strictly better and are visited
 * in the same order with or without the rules, which is why the rules cannot
 * change the result.
 */
#ifndef INCLUDED_LMSSCC_OSD_DECODER_H
#define INCLUDED_LMSSCC_OSD_DECODER_H

#include <gnuradio/lmsscc/api.h>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace gr {
namespace lmsscc {

//! Work counters of one or more decode() calls (added up by the caller).
struct osd_scratch; // per-call working memory (osd_decoder.cc)

struct osd_stats {
    uint64_t frames = 0;
    uint64_t candidates = 0;     //!< test patterns whose discrepancy was summed
    uint64_t skipped = 0;        //!< test patterns skipped by the prune rule
    uint64_t early_stops = 0;    //!< frames ended by the sufficient-optimality rule
};

class LMSSCC_API osd_decoder
{
public:
    //! Construction options.
    struct options {
        int order = 2;           //!< test-pattern weight bound, 0..k (larger is clamped to k)
        bool prune = true;       //!< skip patterns whose MRIP flips alone are too costly
        bool early_stop = true;  //!< stop when the best candidate is provably ML
        //! Minimum distance used by early_stop: -1 computes it, exactly when
        //! k <= dmin_enumeration_max_k (all codewords enumerated) or
        //! n - k <= dmin_enumeration_max_k (the dual enumerated, MacWilliams
        //! identity), else a lower bound from H's columns; a positive value is
        //! taken as given (a lower bound of d_min also keeps the rule valid).
        int dmin = -1;
        int dmin_enumeration_max_k = 24;
    };

    //! From a parity-check matrix: m x n 0/1 bytes, row-major; rows may be
    //! dependent. Throws std::invalid_argument for a degenerate matrix
    //! (n == 0, entries other than 0/1, all-zero H, or rank n so k == 0).
    static osd_decoder from_parity_check(const uint8_t* H, size_t m, size_t n,
                                         const options& opt);
    //! From a generator: k x n 0/1 bytes, row-major; rows may be dependent
    //! (the row space is the code). Same errors as from_parity_check.
    static osd_decoder from_generator(const uint8_t* G, size_t rows, size_t n,
                                      const options& opt);

    size_t n() const { return d_n; }
    size_t k() const { return d_k; }
    int order() const { return d_order; }
    bool prune() const { return d_prune; }
    bool early_stop() const { return d_early_stop; }
    //! The minimum distance (or lower bound) the early_stop rule uses.
    int dmin() const { return d_dmin; }
    //! True when dmin() is the exact minimum distance (enumerated or given).
    bool dmin_exact() const { return d_dmin_exact; }
    //! Number of test patterns per frame without pruning: sum_{w<=order} C(k, w).
    uint64_t patterns_per_frame() const { return d_patterns; }

    //! Decode `frames` frames: llr is frames x n (L = ln P(1)/P(0), positive
    //! means 1), row-major; out receives frames x n codeword bits (0/1).
    //! ordering, when not null, is frames x n reliabilities that replace |llr|
    //! for step 1 only (the metric always uses |llr|). Throws
    //! std::invalid_argument on non-finite values. Thread-safe (no shared
    //! scratch); `stats`, when given, is incremented.
    void decode(const double* llr, const double* ordering, size_t frames, uint8_t* out,
                osd_stats* stats = nullptr) const;

private:
    osd_decoder(std::vector<uint64_t> generator_rows, size_t k, size_t n, int dmin,
                bool dmin_exact, const options& opt);

    void decode_frame(const double* llr, const double* ordering, uint8_t* out, osd_scratch& s,
                      osd_stats& st) const;

    size_t d_n, d_k, d_words;
    int d_order;
    bool d_prune, d_early_stop;
    int d_dmin;
    bool d_dmin_exact;
    uint64_t d_patterns; //!< sum_{w<=order} C(k, w), saturating
    std::vector<uint64_t> d_gen; //!< k rows of d_words words, bit j = column j
};

//! Minimum Hamming distance of the code spanned by `rows` (each `words`
//! uint64 words), by Gray-code enumeration of all 2^k - 1 non-zero codewords.
//! Throws std::invalid_argument when k > 40 (too slow to be useful).
LMSSCC_API int gf2_min_distance(const std::vector<uint64_t>& rows, size_t k, size_t words);

} // namespace lmsscc
} // namespace gr

#endif
