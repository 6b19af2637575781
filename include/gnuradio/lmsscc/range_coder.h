// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/*
 * gr-lmsscc: range coder over integer CDFs with a power-of-two total.
 *
 * The coder keeps a 56-bit window of the code value: `low` (plus one carry
 * bit) and `range` in (2^48, 2^56]. A symbol with cumulative frequency
 * `start` and frequency `freq` out of a total of 2^precision narrows the
 * window to [low + r*start, low + r*(start+freq)) with r = range >> precision.
 * Because range > 2^48 and precision <= 31, r >= 2^17, so the rounding loss
 * per symbol is below 2^-17 of a bit's worth of range. Bytes leave the window
 * from the top; a carry into bytes already produced is resolved with the
 * classic cache + pending-0xFF scheme, so output is a plain byte string.
 *
 * Decoding never reads outside its input: past the end it reads zero bytes
 * (the encoder strips trailing zeros, so this is also how valid streams end)
 * and counts them. Any byte string decodes to *some* symbol sequence in O(1)
 * work per symbol; detecting corruption is the job of the message CRC.
 */
#ifndef INCLUDED_LMSSCC_RANGE_CODER_H
#define INCLUDED_LMSSCC_RANGE_CODER_H

#include <gnuradio/lmsscc/api.h>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace gr {
namespace lmsscc {

constexpr unsigned RC_MIN_PRECISION = 1;
constexpr unsigned RC_MAX_PRECISION = 31;

class LMSSCC_API range_encoder
{
public:
    explicit range_encoder(unsigned precision);

    unsigned precision() const { return d_precision; }
    uint32_t total() const { return d_total; }

    //! Code the interval [start, start+freq) of [0, total). Throws
    //! std::invalid_argument when freq == 0 or the interval leaves [0, total).
    void encode(uint32_t start, uint32_t freq);

    //! Code `symbol` under the CDF cdf[0..nsym] (cdf[0] == 0, cdf[nsym] == total).
    void encode_symbol(const uint32_t* cdf, size_t nsym, uint32_t symbol);

    //! Code many symbols under one static CDF.
    void encode_symbols(const uint32_t* symbols, size_t n, const uint32_t* cdf, size_t nsym);

    //! Terminate the stream and return all bytes. The encoder cannot be used
    //! afterwards (throws std::logic_error).
    std::vector<uint8_t> finish();

    //! Bytes produced so far (excluding the pending carry window).
    size_t bytes_out() const { return d_out.size(); }

    //! Coder state; public so the hot loops can keep it in registers.
    struct state {
        uint64_t low;
        uint64_t range;
        uint64_t pending; // 0xFF bytes waiting for a possible carry
        uint8_t cache;    // last byte not yet final
        bool have_cache;
    };

private:
    void check_open() const;
    uint8_t* reserve(size_t symbols);

    unsigned d_precision;
    uint32_t d_total;
    state d_state;
    bool d_finished;
    std::vector<uint8_t> d_out;
};

class LMSSCC_API range_decoder
{
public:
    //! The decoder copies `data`.
    range_decoder(const uint8_t* data, size_t size, unsigned precision);

    unsigned precision() const { return d_precision; }
    uint32_t total() const { return d_total; }

    //! Decode one symbol under cdf[0..nsym]. Throws std::invalid_argument on a
    //! CDF whose ends are wrong or which is not increasing where it is used.
    uint32_t decode_symbol(const uint32_t* cdf, size_t nsym);

    //! Decode n symbols under one static CDF.
    void decode_symbols(uint32_t* out, size_t n, const uint32_t* cdf, size_t nsym);

    //! Low-level interface: the scaled target in [0, total), then consume the
    //! interval that contains it.
    uint32_t target();
    void consume(uint32_t start, uint32_t freq);

    //! How many zero bytes were supplied after the input ran out. For a valid
    //! stream these replace what the encoder stripped (any number of zero
    //! bytes); read + past end stays within 7 (the window) + bits/8 + 2.
    size_t bytes_past_end() const { return d_past_end; }
    size_t bytes_read() const { return d_pos; }

private:
    uint8_t next_byte();
    void normalize();

    std::vector<uint8_t> d_in;
    size_t d_pos;
    size_t d_past_end;
    unsigned d_precision;
    uint32_t d_total;
    uint64_t d_code;
    uint64_t d_range;
    uint64_t d_r; // range >> precision, cached between target() and consume()
};

} // namespace lmsscc
} // namespace gr

#endif
