// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* Ordered-statistics decoder over bit-packed GF(2) rows (see osd_decoder.h). */

#include <gnuradio/lmsscc/osd_decoder.h>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

namespace gr {
namespace lmsscc {

namespace {

constexpr size_t word_count(size_t bits) { return (bits + 63) / 64; }

inline bool test_bit(const uint64_t* row, size_t j) { return (row[j >> 6] >> (j & 63)) & 1u; }
inline void set_bit(uint64_t* row, size_t j) { row[j >> 6] |= uint64_t(1) << (j & 63); }

inline void xor_row(uint64_t* dst, const uint64_t* src, size_t words)
{
    for (size_t w = 0; w < words; ++w)
        dst[w] ^= src[w];
}

/* rows x n bytes (0/1) -> rows bitsets of word_count(n) words. */
std::vector<uint64_t> pack_rows(const uint8_t* m, size_t rows, size_t n, const char* what)
{
    if (n == 0)
        throw std::invalid_argument(std::string(what) + " has no columns");
    const size_t words = word_count(n);
    std::vector<uint64_t> packed(rows * words, 0);
    for (size_t i = 0; i < rows; ++i)
        for (size_t j = 0; j < n; ++j) {
            const uint8_t v = m[i * n + j];
            if (v > 1)
                throw std::invalid_argument(std::string(what) + " entries must be 0 or 1");
            if (v)
                set_bit(&packed[i * words], j);
        }
    return packed;
}

/* In-place reduced row echelon form over GF(2); returns the pivot columns
 * (one per independent row, rows [0, rank) hold the reduced basis). */
std::vector<size_t> rref(std::vector<uint64_t>& rows, size_t nrows, size_t n)
{
    const size_t words = word_count(n);
    std::vector<size_t> pivots;
    size_t rank = 0;
    for (size_t col = 0; col < n && rank < nrows; ++col) {
        size_t hit = rank;
        while (hit < nrows && !test_bit(&rows[hit * words], col))
            ++hit;
        if (hit == nrows)
            continue;
        if (hit != rank)
            std::swap_ranges(&rows[hit * words], &rows[hit * words] + words, &rows[rank * words]);
        for (size_t i = 0; i < nrows; ++i)
            if (i != rank && test_bit(&rows[i * words], col))
                xor_row(&rows[i * words], &rows[rank * words], words);
        pivots.push_back(col);
        ++rank;
    }
    return pivots;
}

/* Basis of {x : R x^T = 0} from a reduced echelon form R with `pivots`:
 * one vector per free column f (x_f = 1, x_pivot(r) = R[r][f]). */
std::vector<uint64_t> null_space(const std::vector<uint64_t>& R, const std::vector<size_t>& pivots,
                                 size_t n)
{
    const size_t words = word_count(n);
    std::vector<bool> is_pivot(n, false);
    for (size_t p : pivots)
        is_pivot[p] = true;
    std::vector<uint64_t> basis;
    for (size_t f = 0; f < n; ++f) {
        if (is_pivot[f])
            continue;
        std::vector<uint64_t> x(words, 0);
        set_bit(x.data(), f);
        for (size_t r = 0; r < pivots.size(); ++r)
            if (test_bit(&R[r * words], f))
                set_bit(x.data(), pivots[r]);
        basis.insert(basis.end(), x.begin(), x.end());
    }
    return basis;
}

/* A lower bound on d_min from the columns of H (m rows): a zero column is a
 * weight-1 codeword, two equal columns a weight-2 one; otherwise d_min >= 3. */
int dmin_bound_from_columns(const std::vector<uint64_t>& H, size_t m, size_t n)
{
    const size_t words = word_count(n);
    std::vector<std::vector<uint64_t>> cols(n, std::vector<uint64_t>(word_count(m), 0));
    for (size_t i = 0; i < m; ++i)
        for (size_t j = 0; j < n; ++j)
            if (test_bit(&H[i * words], j))
                set_bit(cols[j].data(), i);
    const std::vector<uint64_t> zero(word_count(m), 0);
    for (const auto& c : cols)
        if (c == zero)
            return 1;
    std::sort(cols.begin(), cols.end());
    return std::adjacent_find(cols.begin(), cols.end()) != cols.end() ? 2 : 3;
}

uint64_t saturating_binomial(uint64_t n, uint64_t r)
{
    if (r > n)
        return 0;
    r = std::min(r, n - r);
    long double v = 1;
    for (uint64_t i = 1; i <= r; ++i)
        v = v * (long double)(n - r + i) / (long double)i;
    const long double cap = (long double)std::numeric_limits<uint64_t>::max();
    return v >= cap ? std::numeric_limits<uint64_t>::max() : uint64_t(v + 0.5L);
}

} // namespace

namespace {

/* Test patterns per frame: sum_{w<=order} C(k, w), saturating. */
uint64_t count_patterns(size_t k, int order)
{
    uint64_t total = 0;
    for (int w = 0; w <= order; ++w) {
        const uint64_t c = saturating_binomial(k, uint64_t(w));
        total = (total > std::numeric_limits<uint64_t>::max() - c)
                    ? std::numeric_limits<uint64_t>::max()
                    : total + c;
    }
    return total;
}

} // namespace

namespace {

/* Number of codewords of each weight 0..n in the span of `rows` (k of them),
 * by Gray code: step t flips row ctz(t), so each codeword costs one row XOR. */
std::vector<uint64_t> weight_distribution(const std::vector<uint64_t>& rows, size_t k, size_t n)
{
    const size_t words = word_count(n);
    std::vector<uint64_t> count(n + 1, 0), cw(words, 0);
    count[0] = 1;
    for (uint64_t t = 1; t < (uint64_t(1) << k); ++t) {
        const size_t row = size_t(__builtin_ctzll(t));
        int weight = 0;
        for (size_t w = 0; w < words; ++w) {
            cw[w] ^= rows[row * words + w];
            weight += __builtin_popcountll(cw[w]);
        }
        ++count[size_t(weight)];
    }
    return count;
}

/* d_min from the dual code's weight distribution B (dual dimension r) by the
 * MacWilliams identity: 2^r A_j = sum_w B_w K_j(w), with the Krawtchouk
 * polynomial K_j(w) = sum_s (-1)^s C(w, s) C(n - w, j - s). d_min <= r + 1
 * (Singleton), so only j <= r + 1 is needed. Exact in 128-bit integers;
 * returns 0 when the numbers could overflow them. */
int dmin_from_dual(const std::vector<uint64_t>& B, size_t r, size_t n)
{
    using i128 = __int128;
    const size_t jmax = std::min(n, r + 1);
    // |sum| <= 2^r C(n, j): keep it well inside 2^126.
    const double log2_bound = (std::lgamma(double(n) + 1) - std::lgamma(double(jmax) + 1) -
                               std::lgamma(double(n - jmax) + 1)) / std::log(2.0) +
                              double(r) + std::log2(double(n) + 1);
    if (n > 4096 || log2_bound > 120)
        return 0;
    std::vector<std::vector<i128>> C(n + 1, std::vector<i128>(jmax + 1, 0));
    for (size_t a = 0; a <= n; ++a) {
        C[a][0] = 1;
        for (size_t b = 1; b <= std::min(a, jmax); ++b)
            C[a][b] = C[a - 1][b - 1] + (b < a ? C[a - 1][b] : 0);
    }
    for (size_t j = 1; j <= jmax; ++j) {
        i128 sum = 0;
        for (size_t w = 0; w <= n; ++w) {
            if (!B[w])
                continue;
            i128 kraw = 0;
            for (size_t s = 0; s <= std::min(j, w); ++s)
                if (j - s <= n - w)
                    kraw += (s & 1 ? -1 : 1) * C[w][s] * C[n - w][j - s];
            sum += i128(B[w]) * kraw;
        }
        const i128 dual_size = i128(1) << r;
        if (sum < 0 || sum % dual_size != 0)
            throw std::logic_error("MacWilliams identity gave a non-integer weight count");
        if (sum > 0)
            return int(j);
    }
    throw std::logic_error("MacWilliams identity found no codeword within the Singleton bound");
}

} // namespace

int gf2_min_distance(const std::vector<uint64_t>& rows, size_t k, size_t words)
{
    if (k > 40)
        throw std::invalid_argument("gf2_min_distance: k > 40 is too many codewords to enumerate");
    if (k == 0)
        throw std::invalid_argument("gf2_min_distance: empty code");
    const std::vector<uint64_t> count = weight_distribution(rows, k, words * 64);
    for (size_t w = 1; w < count.size(); ++w)
        if (count[w])
            return int(w);
    throw std::invalid_argument("gf2_min_distance: rows are all zero");
}

osd_decoder::osd_decoder(std::vector<uint64_t> generator_rows, size_t k, size_t n, int dmin,
                         bool dmin_exact, const options& opt)
    : d_n(n),
      d_k(k),
      d_words(word_count(n)),
      d_order(std::min<int>(opt.order, int(k))),
      d_prune(opt.prune),
      d_early_stop(opt.early_stop),
      d_dmin(dmin),
      d_dmin_exact(dmin_exact),
      d_patterns(count_patterns(k, std::min<int>(opt.order, int(k)))),
      d_gen(std::move(generator_rows))
{
}

namespace {

void check_options(const osd_decoder::options& opt, size_t n)
{
    if (opt.order < 0)
        throw std::invalid_argument("OSD order must be >= 0, got " + std::to_string(opt.order));
    if (opt.dmin == 0 || opt.dmin < -1 || opt.dmin > int(n))
        throw std::invalid_argument("dmin must be -1 (compute) or a distance in 1..n, got " +
                                    std::to_string(opt.dmin));
}

/* d_min for early_stop: given; enumerated for small k; from the enumerated
 * dual (MacWilliams) for small n - k; else the column bound of H. H is a basis
 * of the dual (n - k rows). */
std::pair<int, bool> choose_dmin(const osd_decoder::options& opt, const std::vector<uint64_t>& G,
                                 size_t k, const std::vector<uint64_t>& H, size_t n)
{
    if (opt.dmin > 0)
        return {opt.dmin, true};
    if (int(k) <= opt.dmin_enumeration_max_k)
        return {gf2_min_distance(G, k, word_count(n)), true};
    const size_t r = n - k;
    if (int(r) <= opt.dmin_enumeration_max_k) {
        const int d = dmin_from_dual(weight_distribution(H, r, n), r, n);
        if (d > 0)
            return {d, true};
    }
    return {dmin_bound_from_columns(H, r, n), false};
}

} // namespace

osd_decoder
osd_decoder::from_parity_check(const uint8_t* H, size_t m, size_t n, const options& opt)
{
    check_options(opt, n);
    std::vector<uint64_t> rows = pack_rows(H, m, n, "parity-check matrix");
    const std::vector<size_t> pivots = rref(rows, m, n);
    if (pivots.empty())
        throw std::invalid_argument("parity-check matrix is all zero (no constraint: not a code "
                                    "worth decoding)");
    const size_t k = n - pivots.size();
    if (k == 0)
        throw std::invalid_argument("parity-check matrix has rank n = " + std::to_string(n) +
                                    ", so k = 0 (only the zero codeword)");
    std::vector<uint64_t> G = null_space(rows, pivots, n);
    rows.resize(pivots.size() * word_count(n)); // a basis of the dual
    const auto dmin = choose_dmin(opt, G, k, rows, n);
    return osd_decoder(std::move(G), k, n, dmin.first, dmin.second, opt);
}

osd_decoder
osd_decoder::from_generator(const uint8_t* Gbytes, size_t rows_in, size_t n, const options& opt)
{
    check_options(opt, n);
    std::vector<uint64_t> rows = pack_rows(Gbytes, rows_in, n, "generator matrix");
    const std::vector<size_t> pivots = rref(rows, rows_in, n);
    const size_t k = pivots.size();
    if (k == 0)
        throw std::invalid_argument("generator matrix is all zero, so k = 0");
    if (k == n)
        throw std::invalid_argument("generator has rank n: every word is a codeword (all-zero "
                                    "parity-check matrix), nothing to decode");
    const size_t words = word_count(n);
    rows.resize(k * words);
    std::vector<uint64_t> H = null_space(rows, pivots, n);
    const auto dmin = choose_dmin(opt, rows, k, H, n);
    return osd_decoder(std::move(rows), k, n, dmin.first, dmin.second, opt);
}


/* Per-call working memory, allocated once per decode() and reused by every frame. */
struct osd_scratch {
    std::vector<uint32_t> perm;      // perm[p] = original position of sorted position p
    std::vector<double> key;         // ordering key, original positions
    std::vector<double> rel;         // |llr| in sorted order (the metric weights)
    std::vector<uint32_t> ascending; // sorted positions by increasing rel (early_stop)
    std::vector<uint64_t> gen;       // column-permuted generator, k rows
    std::vector<uint32_t> pivot;     // sorted column of each row's pivot (row i <-> MRIP i)
    std::vector<uint64_t> hard;      // hard decision, sorted order
    std::vector<uint64_t> best;      // best candidate XOR hard decision
    std::vector<uint64_t> stack;     // partial test-pattern sums, one level per flip
    bool monotone = true;            // rel non-increasing (ordering by |llr| itself)
};

namespace {

/* Sum of rel[p] over the set bits of diff, in increasing p; stops once it
 * reaches `limit` (the caller only needs to know it is not below). */
inline double discrepancy(const uint64_t* diff, const double* rel, size_t words, double limit)
{
    double sum = 0;
    for (size_t w = 0; w < words; ++w) {
        uint64_t bits = diff[w];
        while (bits) {
            sum += rel[(w << 6) + size_t(__builtin_ctzll(bits))];
            if (sum >= limit)
                return sum;
            bits &= bits - 1;
        }
    }
    return sum;
}

int popcount_row(const uint64_t* row, size_t words)
{
    int c = 0;
    for (size_t w = 0; w < words; ++w)
        c += __builtin_popcountll(row[w]);
    return c;
}

/* Sort, gather, eliminate: fills s.perm, s.rel, s.monotone, s.gen (the
 * identity on the MRIP columns) and s.pivot. */
void order_and_eliminate(const double* llr, const double* ordering, size_t n, size_t k,
                         size_t words, const std::vector<uint64_t>& generator, osd_scratch& s)
{
    for (size_t j = 0; j < n; ++j)
        s.key[j] = ordering ? ordering[j] : std::fabs(llr[j]);
    std::iota(s.perm.begin(), s.perm.end(), 0u);
    // Ties broken by position so the order (and the result) is deterministic.
    std::sort(s.perm.begin(), s.perm.end(), [&](uint32_t a, uint32_t b) {
        return s.key[a] > s.key[b] || (s.key[a] == s.key[b] && a < b);
    });
    s.monotone = true;
    for (size_t p = 0; p < n; ++p) {
        s.rel[p] = std::fabs(llr[s.perm[p]]);
        if (p && s.rel[p] > s.rel[p - 1])
            s.monotone = false;
    }
    // Gather the generator's columns into sorted order.
    std::fill(s.gen.begin(), s.gen.end(), 0);
    for (size_t p = 0; p < n; ++p) {
        const size_t src_word = s.perm[p] >> 6, src_bit = s.perm[p] & 63;
        const uint64_t dst_mask = uint64_t(1) << (p & 63);
        const size_t dst_word = p >> 6;
        for (size_t i = 0; i < k; ++i)
            if ((generator[i * words + src_word] >> src_bit) & 1u)
                s.gen[i * words + dst_word] |= dst_mask;
    }
    // Gauss-Jordan: the first k independent sorted columns are the MRIP.
    size_t rank = 0;
    for (size_t p = 0; p < n && rank < k; ++p) {
        size_t hit = rank;
        while (hit < k && !test_bit(&s.gen[hit * words], p))
            ++hit;
        if (hit == k)
            continue; // column p depends on more reliable ones: it is not in the MRIP
        uint64_t* pivot_row = &s.gen[rank * words];
        if (hit != rank)
            std::swap_ranges(&s.gen[hit * words], &s.gen[hit * words] + words, pivot_row);
        for (size_t i = 0; i < k; ++i)
            if (i != rank && test_bit(&s.gen[i * words], p))
                xor_row(&s.gen[i * words], pivot_row, words);
        s.pivot[rank++] = uint32_t(p);
    }
    if (rank != k)
        throw std::logic_error("OSD: generator lost rank during elimination");
}

/* The test-pattern search of one frame, after elimination. Patterns are
 * visited weight by weight; within a weight, as increasing index tuples over
 * q = 0..k-1 where q names MRIP row k-1-q (least reliable first), so cheap
 * patterns come first and the best metric drops early. */
class pattern_search
{
public:
    pattern_search(osd_scratch& s, size_t n, size_t k, size_t words, int dmin, bool prune,
                   bool early_stop)
        : s(s), rel(s.rel.data()), n(n), k(k), words(words), dmin(dmin), prune(prune),
          early_stop(early_stop)
    {
    }

    void run(int order)
    {
        evaluate(&s.stack[0]);
        for (int weight = 1; weight <= order && !stopped; ++weight)
            extend(weight, 0, 0, 0.0);
    }

    bool stopped = false;
    uint64_t candidates = 0;

private:
    double mrip_rel(size_t q) const { return rel[s.pivot[k - 1 - q]]; }
    const uint64_t* mrip_row(size_t q) const { return &s.gen[(k - 1 - q) * words]; }

    /* Add one flip (level `depth` of `weight`) at every q >= start to the
     * partial sum on stack level `depth`. `cost` is the |llr| of the flips so
     * far, a lower bound on any completion's discrepancy. */
    void extend(int weight, int depth, size_t start, double cost)
    {
        const int remaining = weight - depth - 1; // flips still to add after this one
        const uint64_t* partial = &s.stack[size_t(depth) * words];
        uint64_t* next = &s.stack[size_t(depth + 1) * words];
        for (size_t q = start; q + size_t(remaining) < k; ++q) {
            const double with_flip = cost + mrip_rel(q);
            if (prune && bound(with_flip, q, remaining) >= best_metric) {
                if (s.monotone)
                    break; // bounds only grow with q when rel is sorted
                continue;
            }
            const uint64_t* row = mrip_row(q);
            for (size_t w = 0; w < words; ++w)
                next[w] = partial[w] ^ row[w];
            if (remaining == 0)
                evaluate(next);
            else
                extend(weight, depth + 1, q + 1, with_flip);
            if (stopped)
                return;
        }
    }

    /* Lower bound on the discrepancy of any pattern completing `cost` with
     * `remaining` more flips at q' > q: with sorted rel the cheapest ones are
     * the next q's; otherwise only cost itself is certain. */
    double bound(double cost, size_t q, int remaining) const
    {
        if (!s.monotone)
            return cost;
        for (int t = 1; t <= remaining; ++t)
            cost += mrip_rel(q + size_t(t));
        return cost;
    }

    void evaluate(const uint64_t* diff)
    {
        ++candidates;
        const double limit = prune ? best_metric : std::numeric_limits<double>::infinity();
        const double metric = discrepancy(diff, rel, words, limit);
        if (metric < best_metric) {
            best_metric = metric;
            std::copy(diff, diff + words, s.best.begin());
            if (early_stop && provably_optimal())
                stopped = true;
        }
    }

    /* Sufficient optimality: any other codeword differs from the best in >=
     * dmin positions, at least dmin - |D| of them outside its discrepancy set
     * D, where it then disagrees with the hard decision. */
    bool provably_optimal() const
    {
        int need = dmin - popcount_row(s.best.data(), words);
        if (need <= 0)
            return false;
        double bound = 0;
        for (size_t t = 0; t < n && need > 0; ++t) {
            const size_t p = s.monotone ? n - 1 - t : s.ascending[t];
            if (!test_bit(s.best.data(), p)) {
                bound += rel[p];
                --need;
            }
        }
        // Margin against rounding: the bound and the metrics sum in different orders.
        return best_metric < bound * (1.0 - 1e-12);
    }

    osd_scratch& s;
    const double* rel;
    size_t n, k, words;
    int dmin;
    bool prune, early_stop;
    double best_metric = std::numeric_limits<double>::infinity();
};

} // namespace

void osd_decoder::decode(const double* llr, const double* ordering, size_t frames, uint8_t* out,
                         osd_stats* stats) const
{
    for (size_t i = 0; i < frames * d_n; ++i) {
        if (!std::isfinite(llr[i]))
            throw std::invalid_argument("non-finite LLR at frame " + std::to_string(i / d_n) +
                                        ", position " + std::to_string(i % d_n));
        if (ordering && !std::isfinite(ordering[i]))
            throw std::invalid_argument("non-finite ordering reliability at frame " +
                                        std::to_string(i / d_n) + ", position " +
                                        std::to_string(i % d_n));
    }
    osd_scratch s;
    s.perm.resize(d_n);
    s.key.resize(d_n);
    s.rel.resize(d_n);
    s.ascending.resize(d_n);
    s.gen.resize(d_k * d_words);
    s.pivot.resize(d_k);
    s.hard.resize(d_words);
    s.best.resize(d_words);
    s.stack.resize(size_t(d_order + 1) * d_words);
    osd_stats st;
    for (size_t f = 0; f < frames; ++f)
        decode_frame(llr + f * d_n, ordering ? ordering + f * d_n : nullptr, out + f * d_n, s, st);
    if (stats) {
        stats->frames += st.frames;
        stats->candidates += st.candidates;
        stats->skipped += st.skipped;
        stats->early_stops += st.early_stops;
    }
}

void osd_decoder::decode_frame(const double* llr, const double* ordering, uint8_t* out,
                               osd_scratch& s, osd_stats& st) const
{
    const size_t n = d_n, k = d_k, words = d_words;
    order_and_eliminate(llr, ordering, n, k, words, d_gen, s);
    if (d_early_stop && !s.monotone) {
        std::iota(s.ascending.begin(), s.ascending.end(), 0u);
        std::sort(s.ascending.begin(), s.ascending.end(),
                  [&](uint32_t a, uint32_t b) { return s.rel[a] < s.rel[b]; });
    }

    // Hard decision; stack level 0 = re-encoded MRIP decision XOR hard
    // decision, zero on the MRIP (the order-0 candidate's disagreements).
    std::fill(s.hard.begin(), s.hard.end(), 0);
    for (size_t p = 0; p < n; ++p)
        if (llr[s.perm[p]] > 0)
            set_bit(s.hard.data(), p);
    uint64_t* base = &s.stack[0];
    std::copy(s.hard.begin(), s.hard.end(), base);
    for (size_t i = 0; i < k; ++i)
        if (test_bit(s.hard.data(), s.pivot[i]))
            xor_row(base, &s.gen[i * words], words);

    pattern_search search(s, n, k, words, d_dmin, d_prune, d_early_stop);
    search.run(d_order);

    st.frames += 1;
    st.candidates += search.candidates;
    st.early_stops += search.stopped ? 1 : 0;
    const uint64_t all = d_patterns;
    st.skipped += all > search.candidates ? all - search.candidates : 0;

    for (size_t p = 0; p < n; ++p)
        out[s.perm[p]] = uint8_t(test_bit(s.hard.data(), p) ^ test_bit(s.best.data(), p));
}

} // namespace lmsscc
} // namespace gr
