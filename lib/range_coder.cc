// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* gr-lmsscc range coder; see include/gnuradio/lmsscc/range_coder.h. */

#include <gnuradio/lmsscc/range_coder.h>
#include <algorithm>
#include <stdexcept>
#include <string>

namespace gr {
namespace lmsscc {

namespace {
constexpr unsigned kWindowBits = 56;
constexpr uint64_t kTop = uint64_t(1) << kWindowBits;       // window size
constexpr uint64_t kBottom = uint64_t(1) << (kWindowBits - 8); // renormalise at or below
constexpr unsigned kTopShift = kWindowBits - 8;              // position of the outgoing byte
constexpr unsigned kWindowBytes = kWindowBits / 8;

uint32_t checked_total(unsigned precision)
{
    if (precision < RC_MIN_PRECISION || precision > RC_MAX_PRECISION)
        throw std::invalid_argument("range coder precision must be in [" +
                                    std::to_string(RC_MIN_PRECISION) + ", " +
                                    std::to_string(RC_MAX_PRECISION) + "], got " +
                                    std::to_string(precision));
    return uint32_t(1) << precision;
}

void check_cdf_ends(const uint32_t* cdf, size_t nsym, uint32_t total)
{
    if (nsym == 0)
        throw std::invalid_argument("CDF must describe at least one symbol");
    if (cdf[0] != 0 || cdf[nsym] != total)
        throw std::invalid_argument("CDF must start at 0 and end at 2^precision = " +
                                    std::to_string(total));
}
} // namespace

/* ---------------------------------------------------------------- encoder */

namespace {

using enc_state = range_encoder::state;

// The outgoing byte is final unless it is 0xFF and no carry has arrived: a
// later carry would turn a run of 0xFF into 0x00 and bump the byte before.
// `out` must have room (see range_encoder::reserve).
inline void shift_low(enc_state& s, uint8_t*& out)
{
    if (s.low < (uint64_t(0xFF) << kTopShift) || s.low >= kTop) {
        const uint8_t carry = uint8_t(s.low >> kWindowBits);
        if (s.have_cache)
            *out++ = uint8_t(s.cache + carry);
        for (; s.pending > 0; --s.pending)
            *out++ = uint8_t(0xFF + carry);
        s.cache = uint8_t(s.low >> kTopShift);
        s.have_cache = true;
    } else {
        ++s.pending;
    }
    s.low = (s.low << 8) & (kTop - 1);
}

// One symbol; the interval must already be validated.
inline void encode_step(enc_state& s, uint8_t*& out, unsigned precision, uint32_t total,
                        uint32_t start, uint32_t freq)
{
    const uint64_t r = s.range >> precision;
    s.low += r * start;
    // The last symbol takes the rounding slack, so no range is wasted.
    s.range = (uint64_t(start) + freq == total) ? s.range - r * start : r * freq;
    while (s.range <= kBottom) {
        shift_low(s, out);
        s.range <<= 8;
    }
}

} // namespace

range_encoder::range_encoder(unsigned precision)
    : d_precision(precision),
      d_total(checked_total(precision)),
      d_state{ 0, kTop, 0, 0, false },
      d_finished(false)
{
}

void range_encoder::check_open() const
{
    if (d_finished)
        throw std::logic_error("range_encoder used after finish()");
}

uint8_t* range_encoder::reserve(size_t symbols)
{
    // Each symbol shifts out at most 4 bytes (precision <= 31); bytes held
    // back as pending or cache come out at most once more.
    const size_t used = d_out.size();
    d_out.resize(used + 4 * symbols + d_state.pending + 16);
    return d_out.data() + used;
}

void range_encoder::encode(uint32_t start, uint32_t freq)
{
    check_open();
    if (freq == 0 || uint64_t(start) + freq > d_total)
        throw std::invalid_argument("range_encoder::encode: interval [" + std::to_string(start) +
                                    ", +" + std::to_string(freq) + ") outside [0, " +
                                    std::to_string(d_total) + ") or empty");
    uint8_t* const first = reserve(1);
    uint8_t* out = first;
    encode_step(d_state, out, d_precision, d_total, start, freq);
    d_out.resize(size_t(out - d_out.data()));
}

void range_encoder::encode_symbol(const uint32_t* cdf, size_t nsym, uint32_t symbol)
{
    check_cdf_ends(cdf, nsym, d_total);
    if (symbol >= nsym)
        throw std::invalid_argument("symbol " + std::to_string(symbol) +
                                    " outside alphabet of " + std::to_string(nsym));
    if (cdf[symbol + 1] <= cdf[symbol])
        throw std::invalid_argument("symbol " + std::to_string(symbol) +
                                    " has zero (or negative) frequency in the CDF");
    encode(cdf[symbol], cdf[symbol + 1] - cdf[symbol]);
}

void range_encoder::encode_symbols(const uint32_t* symbols,
                                   size_t n,
                                   const uint32_t* cdf,
                                   size_t nsym)
{
    check_open();
    check_cdf_ends(cdf, nsym, d_total);
    // Validate everything first, so a bad symbol leaves the encoder untouched.
    for (size_t i = 0; i < n; ++i) {
        const uint32_t s = symbols[i];
        if (s >= nsym || cdf[s + 1] <= cdf[s])
            throw std::invalid_argument("symbol " + std::to_string(s) + " at position " +
                                        std::to_string(i) + " is not codable under the CDF");
    }
    // Hot loop on local copies: writes through `out` (uint8_t aliases
    // everything) would otherwise force the state back to memory each byte.
    enc_state st = d_state;
    uint8_t* out = reserve(n);
    const unsigned precision = d_precision;
    const uint32_t total = d_total;
    for (size_t i = 0; i < n; ++i) {
        const uint32_t s = symbols[i];
        encode_step(st, out, precision, total, cdf[s], cdf[s + 1] - cdf[s]);
    }
    d_state = st;
    d_out.resize(size_t(out - d_out.data()));
}

std::vector<uint8_t> range_encoder::finish()
{
    check_open();
    enc_state& st = d_state;
    // Pick the value in [low, low + range) with the most trailing zero bits:
    // only its leading bytes need to be sent, the decoder pads with zeros.
    const uint64_t high = st.low + st.range; // exclusive, <= 2^57
    unsigned k = kWindowBits + 1;
    uint64_t value = 0;
    for (;; --k) {
        const uint64_t step = uint64_t(1) << k;
        value = (st.low + step - 1) & ~(step - 1);
        if (value < high)
            break;
    }
    st.low = value;
    const unsigned significant = k >= kWindowBits ? 0 : kWindowBits - k;
    const unsigned shifts = std::max(1u, (significant + 7) / 8) + 1;
    uint8_t* out = reserve(shifts);
    for (unsigned i = 0; i < shifts; ++i)
        shift_low(st, out);
    d_out.resize(size_t(out - d_out.data()));
    // Whatever is still cached is zero (all significant bits left above).
    d_finished = true;
    while (!d_out.empty() && d_out.back() == 0)
        d_out.pop_back();
    return std::move(d_out);
}

/* ---------------------------------------------------------------- decoder */

range_decoder::range_decoder(const uint8_t* data, size_t size, unsigned precision)
    : d_in(data, data + size),
      d_pos(0),
      d_past_end(0),
      d_precision(precision),
      d_total(checked_total(precision)),
      d_code(0),
      d_range(kTop),
      d_r(0)
{
    for (unsigned i = 0; i < kWindowBytes; ++i)
        d_code = (d_code << 8) | next_byte();
}

uint8_t range_decoder::next_byte()
{
    if (d_pos < d_in.size())
        return d_in[d_pos++];
    ++d_past_end;
    return 0;
}

void range_decoder::normalize()
{
    while (d_range <= kBottom) {
        d_code = (d_code << 8) | next_byte();
        d_range <<= 8;
    }
}

uint32_t range_decoder::target()
{
    d_r = d_range >> d_precision;
    // code < range always holds, so code / r <= total; it equals total only
    // inside the slack that the last symbol owns.
    const uint64_t v = d_code / d_r;
    return v >= d_total ? d_total - 1 : uint32_t(v);
}

void range_decoder::consume(uint32_t start, uint32_t freq)
{
    if (d_r == 0)
        throw std::logic_error("range_decoder::consume called without target()");
    if (freq == 0 || uint64_t(start) + freq > d_total)
        throw std::invalid_argument("range_decoder::consume: bad interval");
    const uint64_t offset = d_r * start;
    const uint64_t width = (uint64_t(start) + freq == d_total) ? d_range - offset : d_r * freq;
    if (d_code < offset || d_code - offset >= width)
        throw std::invalid_argument("range_decoder::consume: interval does not hold the target");
    d_code -= offset;
    d_range = width;
    d_r = 0;
    normalize();
}

uint32_t range_decoder::decode_symbol(const uint32_t* cdf, size_t nsym)
{
    check_cdf_ends(cdf, nsym, d_total);
    const uint32_t v = target();
    // Last entry <= v: the symbol whose interval holds v (zero-width entries
    // are skipped because upper_bound lands after all equal values).
    const uint32_t* it = std::upper_bound(cdf, cdf + nsym + 1, v);
    const size_t s = size_t(it - cdf) - 1;
    if (s >= nsym || cdf[s + 1] <= cdf[s])
        throw std::invalid_argument("CDF is not increasing");
    consume(cdf[s], cdf[s + 1] - cdf[s]);
    return uint32_t(s);
}

void range_decoder::decode_symbols(uint32_t* out, size_t n, const uint32_t* cdf, size_t nsym)
{
    for (size_t i = 0; i < n; ++i)
        out[i] = decode_symbol(cdf, nsym);
}

} // namespace lmsscc
} // namespace gr
