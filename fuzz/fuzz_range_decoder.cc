// SPDX-License-Identifier: GPL-3.0-or-later
/* libFuzzer target: the C++ range decoder and CDF quantizer on arbitrary input.
 *
 * Input layout (anything shorter is padded with zeros by the reader):
 *   byte 0      precision: 0..40 (values outside [1, 31] must throw, not crash)
 *   byte 1      mode: bit 0 = corrupt the CDF on purpose (must throw),
 *                     bit 1 = build the CDF with logits_to_cdf from the input
 *   bytes 2-3   alphabet size (1..1024, capped at 2^precision)
 *   next n      one byte per symbol: weight (or logit) of that symbol
 *   rest        the range-coded stream handed to the decoder
 *
 * Oracles: no sanitizer report; decoded symbols lie inside the alphabet and
 * have non-zero frequency; re-encoding the decoded symbols and decoding that
 * again gives the same symbols (encoder and decoder agree on every stream);
 * the decoder never reads past its input (it pads with zeros and counts).
 */
#include <gnuradio/lmsscc/cdf_quantizer.h>
#include <gnuradio/lmsscc/range_coder.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

using namespace gr::lmsscc;

namespace {

struct Reader {
    const uint8_t* data;
    size_t size;
    size_t pos = 0;
    uint8_t byte() { return pos < size ? data[pos++] : 0; }
};

void check(bool ok)
{
    if (!ok)
        std::abort();
}

// CDF from byte weights: each symbol gets 1 + its share of the rest.
std::vector<uint32_t> weights_cdf(Reader& in, size_t n, unsigned precision)
{
    std::vector<float> w(n);
    for (auto& x : w)
        x = float(in.byte());
    w[0] += 1.0f; // a positive sum
    std::vector<uint32_t> cdf(n + 1);
    probs_to_cdf(w.data(), n, precision, cdf.data());
    return cdf;
}

// CDF from logits: bytes map to [-16, 16) plus the special values -inf, +inf, NaN.
std::vector<uint32_t> logits_cdf(Reader& in, size_t n, unsigned precision)
{
    std::vector<float> logits(n);
    for (auto& x : logits) {
        const uint8_t b = in.byte();
        x = b == 255 ? -INFINITY : b == 254 ? INFINITY : b == 253 ? NAN : (float(b) - 128.f) / 8.f;
    }
    std::vector<uint32_t> cdf(n + 1);
    logits_to_cdf(logits.data(), n, precision, cdf.data()); // may throw on NaN/+inf
    return cdf;
}

void check_cdf(const std::vector<uint32_t>& cdf, unsigned precision)
{
    check(cdf.front() == 0 && cdf.back() == (uint32_t(1) << precision));
    for (size_t i = 0; i + 1 < cdf.size(); ++i)
        check(cdf[i + 1] > cdf[i]);
}

std::vector<uint32_t> decode_all(const uint8_t* data, size_t size, unsigned precision,
                                 const std::vector<uint32_t>& cdf, size_t count)
{
    range_decoder dec(data, size, precision);
    std::vector<uint32_t> out(count);
    const size_t nsym = cdf.size() - 1;
    for (auto& s : out) {
        s = dec.decode_symbol(cdf.data(), nsym);
        check(s < nsym && cdf[s + 1] > cdf[s]);
    }
    check(dec.bytes_read() <= size);
    return out;
}

void round_trip(const std::vector<uint32_t>& symbols, unsigned precision,
                const std::vector<uint32_t>& cdf)
{
    range_encoder enc(precision);
    enc.encode_symbols(symbols.data(), symbols.size(), cdf.data(), cdf.size() - 1);
    const std::vector<uint8_t> bytes = enc.finish();
    const std::vector<uint32_t> again =
        decode_all(bytes.data(), bytes.size(), precision, cdf, symbols.size());
    check(again == symbols);
}

void corrupt(std::vector<uint32_t>& cdf, Reader& in)
{
    const size_t i = in.byte() % cdf.size();
    cdf[i] = cdf[i] ^ (uint32_t(in.byte()) << (in.byte() % 24)) ^ 1u;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    Reader in{ data, size };
    const unsigned precision = in.byte() % 41;
    const uint8_t mode = in.byte();
    size_t n = ((size_t(in.byte()) << 8) | in.byte()) % 1024 + 1;
    if (precision < RC_MIN_PRECISION || precision > RC_MAX_PRECISION) {
        bool threw = false;
        try {
            range_decoder dec(data, size, precision);
        } catch (const std::invalid_argument&) {
            threw = true;
        }
        check(threw);
        return 0;
    }
    if (n > (size_t(1) << precision))
        n = size_t(1) << precision;
    std::vector<uint32_t> cdf;
    try {
        cdf = (mode & 2) ? logits_cdf(in, n, precision) : weights_cdf(in, n, precision);
    } catch (const std::invalid_argument&) {
        return 0; // NaN/+inf logits are refused: the contract
    }
    check_cdf(cdf, precision);
    const uint8_t* stream = data + in.pos;
    const size_t stream_size = size - std::min(size, in.pos);
    const size_t count = 2 * stream_size + 8;
    if (mode & 1) {
        corrupt(cdf, in);
        try {
            decode_all(stream, stream_size, precision, cdf, count);
        } catch (const std::invalid_argument&) {
        }
        return 0;
    }
    round_trip(decode_all(stream, stream_size, precision, cdf, count), precision, cdf);
    return 0;
}
