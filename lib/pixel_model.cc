// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* gr-lmsscc pixel model and coder; see include/gnuradio/lmsscc/pixel_model.h.
 *
 * Fixed point: pixel values v in 0..255; predictions and residuals in 1/16
 * (Q4), so a prediction carries a fractional part that the distribution
 * uses. All arithmetic is on integers; divisions are C++ integer divisions
 * (truncation toward zero, the same everywhere).
 *
 * Per subpixel, in order:
 *  1. predictors: simple spatial ones (W, N, NE, NW, the plane N+W-NW, ...),
 *     the trained linear predictor of its set and its online NLMS
 *     correction, and for the second and third channel predictors that
 *     carry each earlier channel's local gradient (W + P - P_W, ...);
 *  2. blending: each predictor is weighted by 1 / (its recent absolute
 *     errors around the pixel)^2, so the one that works here wins; an NLMS
 *     stage then mixes the predictors' offsets from the blend and the
 *     earlier channels' residuals at this pixel;
 *  3. bias cancellation: the mean error of the current context (activity
 *     and the signs of the neighbours around the prediction) is added;
 *  4. scale: the activity (recent errors, predictor disagreement, the error
 *     of the previous channel at this pixel) picks one of PIXEL_BUCKETS
 *     contexts, whose running mean |residual| (started at its trained prior)
 *     is the scale;
 *  5. distribution: the trained shape table at u = (boundary - mu) / scale
 *     gives the CDF at each of the 257 boundaries, with a floor so every
 *     value has probability >= 2^-18.
 * The decoder finds the symbol by bisection on the same CDF function, so
 * only ~9 CDF points are evaluated per subpixel at either end.
 */

#include <gnuradio/lmsscc/pixel_model.h>
#include <gnuradio/lmsscc/range_coder.h>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace gr {
namespace lmsscc {

namespace {

constexpr int kPad = 2;            // columns of padding on each side of a row
constexpr int kRows = 3;           // rows kept: y, y-1, y-2
constexpr int kMaxPredictors = 20; // spatial + linear + cross-channel
constexpr int kSpatial = 8;
constexpr int kCross = 5;
constexpr int kLinear = kSpatial;     // index of the trained linear predictor
constexpr int kNlms = kSpatial + 1;   // index of its online correction
constexpr int kNlmsWeightBits = 16;   // NLMS weights in Q16
constexpr int kNlmsStepShift = 2;     // NLMS step 2^-7
constexpr int64_t kNlmsDelta = 16 * 16 * 64; // regulariser of the NLMS norm (Q4^2)
constexpr int kMaxQ4 = 255 * 16;
constexpr int kBiasContexts = 18 * 16 * 3;
constexpr int kBiasLimit = 128; // halve a context's sums at this count (adaptivity)
constexpr int kScaleLimit = 256;
constexpr int kScalePriorCount = 4;
constexpr uint32_t kTotal = uint32_t(1) << PIXEL_PRECISION;
constexpr uint32_t kFloor = 64; // minimum frequency of every value: 2^-18
constexpr uint64_t kSpread = kTotal - 256 * kFloor;
constexpr int kShapeOrigin = 32 * 1024; // u = 0 in Q10 positions of the table
constexpr int kShapeFracBits = 4;       // table step 1/64 = 16 Q10 units

inline int clamp_q4(int64_t p) { return int(std::min<int64_t>(std::max<int64_t>(p, 0), kMaxQ4)); }

inline int iabs(int v) { return v < 0 ? -v : v; }

// floor(4 * log2(a + 1)) (two fractional bits), clamped to the bucket range.
inline int log_bucket(uint32_t a)
{
    const uint32_t n = a + 1;
    const int lz = 31 - __builtin_clz(n);
    const int frac = int(((uint64_t(n) << 2) >> lz) & 3);
    return std::min(4 * lz + frac, PIXEL_BUCKETS - 1);
}

int set_of(size_t channels, size_t c) { return channels == 1 ? 0 : 1 + int(c); }

int predictors_of(int set) { return kSpatial + 2 + (set >= 2 ? kCross : 0) + (set == 3 ? kCross : 0); }

/* Rolling buffers of the last kRows rows: values, final |residual| and each
 * predictor's |error|, with kPad columns of padding at both ends. */
class row_buffers
{
public:
    row_buffers(size_t width, size_t channels)
        : d_width(width),
          d_channels(channels),
          d_stride((width + 2 * kPad) * channels),
          d_value(kRows * d_stride, 128),
          d_err(kRows * d_stride, 0),
          d_perr(kRows * d_stride * kMaxPredictors, 0)
    {
    }

    // Row y (any integer >= -2) in the ring; column x may be -kPad .. width+kPad-1.
    size_t index(long y, long x, size_t c) const
    {
        const size_t row = size_t((y + kRows * 4) % kRows);
        return row * d_stride + size_t(x + kPad) * d_channels + c;
    }
    int value(long y, long x, size_t c) const { return d_value[index(y, x, c)]; }
    int err(long y, long x, size_t c) const { return std::abs(int(d_err[index(y, x, c)])); }
    int residual(long y, long x, size_t c) const { return d_err[index(y, x, c)]; }
    uint16_t* perr(long y, long x, size_t c) { return &d_perr[index(y, x, c) * kMaxPredictors]; }
    const uint16_t* perr(long y, long x, size_t c) const
    {
        return &d_perr[index(y, x, c) * kMaxPredictors];
    }
    void store(long y, long x, size_t c, int v, int abs_err)
    {
        d_value[index(y, x, c)] = int16_t(v);
        d_err[index(y, x, c)] = int16_t(abs_err);
    }

    // Before row y: its left padding repeats the first pixel of the row above.
    void begin_row(long y)
    {
        for (long x = -kPad; x < 0; ++x)
            copy_cell(y, x, y - 1, 0);
    }
    // After row y: its right padding repeats its last pixel.
    void end_row(long y)
    {
        for (long x = long(d_width); x < long(d_width) + kPad; ++x)
            copy_cell(y, x, y, long(d_width) - 1);
    }

private:
    void copy_cell(long y, long x, long from_y, long from_x)
    {
        for (size_t c = 0; c < d_channels; ++c) {
            const size_t to = index(y, x, c), from = index(from_y, from_x, c);
            d_value[to] = d_value[from];
            d_err[to] = d_err[from];
            std::copy_n(&d_perr[from * kMaxPredictors], kMaxPredictors, &d_perr[to * kMaxPredictors]);
        }
    }

    size_t d_width, d_channels, d_stride;
    std::vector<int16_t> d_value;
    std::vector<int16_t> d_err;
    std::vector<uint16_t> d_perr;
};

struct prediction {
    int set;
    int count;                 // predictors used
    int p[kMaxPredictors];     // each predictor, Q4
    int mu_blend;
    int mu_pre;
    int nmix;
    int mix_in[kMaxPredictors + 2];              // blended prediction, Q4
    int mu;                    // after bias cancellation, Q4
    int bias_ctx;
    int bucket;
    int scale_ctx;
    int scale;                 // mean |residual| of the bucket, Q4
    int64_t inv_scale;         // 2^24 / scale
    int ntaps;
    int taps[PIXEL_LIN_TAPS];  // values under the linear predictor's taps
};

/* The adaptive state of one image and the model's trained tables. */
class pixel_model
{
public:
    pixel_model(const pixel_model_params& params, size_t width, size_t channels)
        : d_params(params), d_rows(width, channels), d_channels(channels)
    {
        for (int s = 0; s < PIXEL_SETS; ++s) {
            for (int b = 0; b < PIXEL_BUCKETS * 8; ++b) {
                d_scale_sum[s][b] = int64_t(params.scale_prior[s * PIXEL_BUCKETS + b / 8]) * kScalePriorCount;
                d_scale_count[s][b] = kScalePriorCount;
            }
            for (int k = 0; k < kBiasContexts; ++k)
                d_bias_sum[s][k] = d_bias_count[s][k] = 0;
            for (int i = 0; i < PIXEL_LIN_TAPS; ++i)
                d_nlms[s][i] = 0;
        }
    }

    void begin_row(long y) { d_rows.begin_row(y); }
    void end_row(long y) { d_rows.end_row(y); }

    void predict(long y, long x, size_t c, prediction& out) const;
    void update(long y, long x, size_t c, const prediction& pred, int v);

    // CDF at boundary b (0 .. 256) of the prediction's distribution.
    uint32_t cdf(const prediction& pred, int b) const
    {
        if (b <= 0)
            return 0;
        if (b >= 256)
            return kTotal;
        const int64_t t = int64_t(b) * 16 - 8 - pred.mu; // boundary - mu, Q4
        const int64_t u = (t * pred.inv_scale) >> 14;     // (boundary - mu) / scale, Q10
        const int64_t pos = u + kShapeOrigin;
        int64_t f;
        if (pos <= 0)
            f = d_params.shape[0];
        else if (pos >= int64_t(PIXEL_SHAPE_POINTS - 1) << kShapeFracBits)
            f = d_params.shape[PIXEL_SHAPE_POINTS - 1];
        else {
            const int64_t i = pos >> kShapeFracBits, frac = pos & ((1 << kShapeFracBits) - 1);
            const int64_t lo = d_params.shape[i], hi = d_params.shape[i + 1];
            f = lo + (((hi - lo) * frac) >> kShapeFracBits);
        }
        return uint32_t(b) * kFloor + uint32_t((uint64_t(f) * kSpread) >> PIXEL_SHAPE_BITS);
    }

private:
    int gather_taps(long y, long x, size_t c, int* taps) const;
    int linear(const prediction& pred) const;
    int nlms(const prediction& pred) const;
    void update_nlms(const prediction& pred, int v16);

    const pixel_model_params& d_params;
    row_buffers d_rows;
    size_t d_channels;
    int64_t d_scale_sum[PIXEL_SETS][PIXEL_BUCKETS * 8];
    int32_t d_scale_count[PIXEL_SETS][PIXEL_BUCKETS * 8];
    int32_t d_bias_sum[PIXEL_SETS][kBiasContexts];
    int32_t d_bias_count[PIXEL_SETS][kBiasContexts];
    int64_t d_nlms[PIXEL_SETS][PIXEL_LIN_TAPS];
    int64_t d_mix[PIXEL_SETS][kMaxPredictors + 2] = {};
};

/* Taps of the linear predictors, in this order (the trainer builds the same):
 * same channel W, N, NW, NE, WW, NN, NNE, NNW, NWW, NEE, then for each
 * channel already coded at this pixel (nearest first: c-1, then c-2) its
 * value here and its W, N, NW, NE. Returns how many taps the set uses. */
int pixel_model::gather_taps(long y, long x, size_t c, int* t) const
{
    const row_buffers& r = d_rows;
    t[0] = r.value(y, x - 1, c);
    t[1] = r.value(y - 1, x, c);
    t[2] = r.value(y - 1, x - 1, c);
    t[3] = r.value(y - 1, x + 1, c);
    t[4] = r.value(y, x - 2, c);
    t[5] = r.value(y - 2, x, c);
    t[6] = r.value(y - 2, x + 1, c);
    t[7] = r.value(y - 2, x - 1, c);
    t[8] = r.value(y - 1, x - 2, c);
    t[9] = r.value(y - 1, x + 2, c);
    int n = 10;
    for (size_t back = 1; back <= c && back <= 2; ++back) {
        const size_t p = c - back;
        t[n++] = r.value(y, x, p);
        t[n++] = r.value(y, x - 1, p);
        t[n++] = r.value(y - 1, x, p);
        t[n++] = r.value(y - 1, x - 1, p);
        t[n++] = r.value(y - 1, x + 1, p);
    }
    return n;
}

// The trained linear predictor of the set over the taps, Q4.
int pixel_model::linear(const prediction& pred) const
{
    const int32_t* w = &d_params.lin[size_t(pred.set) * PIXEL_LIN_TAPS];
    int64_t acc = 0;
    for (int i = 0; i < pred.ntaps; ++i)
        acc += int64_t(w[i]) * pred.taps[i];
    // Q12 weights x values -> Q4, rounded
    return clamp_q4((acc + (int64_t(1) << (PIXEL_LIN_SHIFT - 5))) >> (PIXEL_LIN_SHIFT - 4));
}

/* Online correction of the trained predictor (normalised LMS): its taps
 * relative to the trained prediction, weighted by weights that start at 0
 * for every image and follow the image's own statistics. */
int pixel_model::nlms(const prediction& pred) const
{
    const int64_t* w = d_nlms[pred.set];
    int64_t acc = 0;
    for (int i = 0; i < pred.ntaps; ++i)
        acc += w[i] * (pred.taps[i] * 16 - pred.p[kLinear]);
    return clamp_q4(pred.p[kLinear] + (acc >> kNlmsWeightBits));
}

void pixel_model::update_nlms(const prediction& pred, int v16)
{
    int64_t norm = kNlmsDelta;
    int d[PIXEL_LIN_TAPS];
    for (int i = 0; i < pred.ntaps; ++i) {
        d[i] = pred.taps[i] * 16 - pred.p[kLinear];
        norm += int64_t(d[i]) * d[i];
    }
    const int64_t e = v16 - pred.p[kNlms];
    int64_t* w = d_nlms[pred.set];
    for (int i = 0; i < pred.ntaps; ++i)
        w[i] += (e * d[i] * (int64_t(1) << (kNlmsWeightBits - kNlmsStepShift))) / norm;
}

void pixel_model::predict(long y, long x, size_t c, prediction& out) const
{
    const row_buffers& r = d_rows;
    const int set = set_of(d_channels, c);
    out.set = set;
    out.count = predictors_of(set);

    const int W = r.value(y, x - 1, c) * 16, N = r.value(y - 1, x, c) * 16;
    const int NW = r.value(y - 1, x - 1, c) * 16, NE = r.value(y - 1, x + 1, c) * 16;
    const int WW = r.value(y, x - 2, c) * 16, NN = r.value(y - 2, x, c) * 16;
    int* p = out.p;
    p[0] = W;
    p[1] = N;
    p[2] = NE;
    p[3] = NW;
    p[4] = clamp_q4(N + W - NW);
    p[5] = clamp_q4(W + NE - N);
    p[6] = (W + NE) / 2;
    // average of the two linear extrapolations
    p[7] = clamp_q4((clamp_q4(2 * N - NN) + clamp_q4(2 * W - WW)) / 2);
    out.ntaps = gather_taps(y, x, c, out.taps);
    p[kLinear] = linear(out);
    p[kNlms] = nlms(out);
    // Second and third channels: carry each earlier channel's local gradient
    for (size_t back = 1; back <= c && back <= 2; ++back) {
        const size_t q = c - back;
        const int P = r.value(y, x, q) * 16;
        const int PW = r.value(y, x - 1, q) * 16, PN = r.value(y - 1, x, q) * 16;
        const int PNW = r.value(y - 1, x - 1, q) * 16, PNE = r.value(y - 1, x + 1, q) * 16;
        int* cross = p + kNlms + 1 + kCross * (back - 1);
        cross[0] = clamp_q4(W + P - PW);
        cross[1] = clamp_q4(N + P - PN);
        cross[2] = clamp_q4(NE + P - PNE);
        cross[3] = clamp_q4(NW + P - PNW);
        cross[4] = clamp_q4(N + W - NW + P - (PN + PW - PNW));
    }

    // Blend by recent errors around the pixel (and, for G/B, at this pixel in
    // the previous channel, where the same predictor kind was just scored).
    const uint16_t* eW = r.perr(y, x - 1, c);
    const uint16_t* eN = r.perr(y - 1, x, c);
    const uint16_t* eNW = r.perr(y - 1, x - 1, c);
    const uint16_t* eNE = r.perr(y - 1, x + 1, c);
    const uint16_t* eWW = r.perr(y, x - 2, c);
    const uint16_t* eNN = r.perr(y - 2, x, c);
    const uint16_t* eP = c > 0 ? r.perr(y, x, c - 1) : nullptr;
    const int prev_count = c > 0 ? predictors_of(set_of(d_channels, c - 1)) : 0;
    int64_t wsum = 0, acc = 0;
    int64_t weight[kMaxPredictors];
    for (int k = 0; k < out.count; ++k) {
        int64_t e = 2 * (eW[k] + eN[k]) + eNW[k] + eNE[k] + eWW[k] + eNN[k] + 1;
        if (k < prev_count)
            e += 2 * eP[k];
        weight[k] = (int64_t(1) << 42) / (e * e);
        wsum += weight[k];
        acc += weight[k] * p[k];
    }
    out.mu_blend = int((acc + wsum / 2) / wsum);
    {
        const int64_t* v = d_mix[set];
        out.nmix = 0;
        for (int k = 0; k < out.count; ++k)
            out.mix_in[out.nmix++] = p[k] - out.mu_blend;
        for (size_t back = 1; back <= c && back <= 2; ++back)
            out.mix_in[out.nmix++] = 2 * r.residual(y, x, c - back);
        int64_t m = 0;
        for (int k = 0; k < out.nmix; ++k)
            m += v[k] * out.mix_in[k];
        out.mu_pre = out.mu_blend;
        out.mu_blend = clamp_q4(out.mu_blend + (m >> 16));
    }
    int64_t spread = 0;
    for (int k = 0; k < out.count; ++k)
        spread += weight[k] * iabs(p[k] - out.mu_blend);
    spread /= wsum;

    // Activity -> scale context
    uint32_t activity = uint32_t(2 * (r.err(y, x - 1, c) + r.err(y - 1, x, c)) + r.err(y - 1, x - 1, c) +
                                 r.err(y - 1, x + 1, c) + r.err(y, x - 2, c) + r.err(y - 2, x, c) +
                                 2 * spread);
    if (c > 0)
        activity += uint32_t(2 * r.err(y, x, c - 1)) + (c > 1 ? uint32_t(r.err(y, x, c - 2)) : 0u);
    out.bucket = log_bucket(activity);
    const int second = c > 0 ? r.err(y, x, c - 1) : int(spread);
    out.scale_ctx = out.bucket * 8 + std::min(log_bucket(uint32_t(second)) / 6, 7);

    // Bias context: coarse activity x the side of the prediction the neighbours lie on
    const int texture = (W > out.mu_blend) | ((N > out.mu_blend) << 1) | ((NW > out.mu_blend) << 2) |
                        ((NE > out.mu_blend) << 3);
    const int prev_res = c > 0 ? r.residual(y, x, c - 1) : 0;
    const int prev_side = prev_res > 8 ? 2 : prev_res < -8 ? 1 : 0;
    out.bias_ctx = (std::min(out.bucket / 4, 17) * 16 + texture) * 3 + prev_side;
    const int n = d_bias_count[set][out.bias_ctx];
    const int correction = n ? d_bias_sum[set][out.bias_ctx] / n : 0;
    out.mu = clamp_q4(out.mu_blend + correction);

    const int64_t cnt = d_scale_count[set][out.scale_ctx];
    out.scale = int(std::max<int64_t>((d_scale_sum[set][out.scale_ctx] + cnt / 2) / cnt, 2));
    out.inv_scale = (int64_t(1) << 24) / out.scale;
}

void pixel_model::update(long y, long x, size_t c, const prediction& pred, int v)
{
    const int v16 = v * 16;
    uint16_t* pe = d_rows.perr(y, x, c);
    for (int k = 0; k < pred.count; ++k)
        pe[k] = uint16_t(iabs(v16 - pred.p[k]));
    for (int k = pred.count; k < kMaxPredictors; ++k)
        pe[k] = 0;
    update_nlms(pred, v16);
    {
        int64_t norm = 16 * 16 * 16;
        for (int k = 0; k < pred.nmix; ++k)
            norm += int64_t(pred.mix_in[k]) * pred.mix_in[k];
        const int64_t e = v16 - pred.mu_blend;
        for (int k = 0; k < pred.nmix; ++k)
            d_mix[pred.set][k] += (e * pred.mix_in[k] * (int64_t(1) << (16 - 8))) / norm;
    }
    const int residual = v16 - pred.mu;
    d_rows.store(y, x, c, v, residual);

    int32_t& bsum = d_bias_sum[pred.set][pred.bias_ctx];
    int32_t& bcount = d_bias_count[pred.set][pred.bias_ctx];
    bsum += v16 - pred.mu_blend;
    if (++bcount >= kBiasLimit) {
        bsum /= 2;
        bcount /= 2;
    }
    int64_t& ssum = d_scale_sum[pred.set][pred.scale_ctx];
    int32_t& scount = d_scale_count[pred.set][pred.scale_ctx];
    ssum += iabs(residual);
    if (++scount >= kScaleLimit) {
        ssum /= 2;
        scount /= 2;
    }
}

void check_shape(size_t height, size_t width, size_t channels)
{
    if (channels != 1 && channels != 3)
        throw std::invalid_argument("pixel coder: channels must be 1 or 3, got " +
                                    std::to_string(channels));
    if (height == 0 || width == 0)
        throw std::invalid_argument("pixel coder: empty image");
    if (width > (size_t(1) << 24) || height > (size_t(1) << 24))
        throw std::invalid_argument("pixel coder: dimension above 2^24");
}

/* Visit every subpixel in coding order; `code` gets the subpixel's index in
 * the image and returns its value. RGB is coded G, B, R (measured best: G
 * carries most of the luminance the other two are predicted from). */
template <class Code>
void for_each_subpixel(pixel_model& model, size_t height, size_t width, size_t channels, Code&& code)
{
    static const size_t rgb_order[3] = { 1, 2, 0 };
    prediction pred;
    for (long y = 0; y < long(height); ++y) {
        model.begin_row(y);
        for (long x = 0; x < long(width); ++x) {
            for (size_t c = 0; c < channels; ++c) {
                model.predict(y, x, c, pred);
                const size_t channel = channels == 3 ? rgb_order[c] : 0;
                const int v = code(pred, (size_t(y) * width + size_t(x)) * channels + channel);
                model.update(y, x, c, pred, v);
            }
        }
        model.end_row(y);
    }
}

} // namespace

void pixel_model_params::validate() const
{
    if (lin.size() != size_t(PIXEL_SETS) * PIXEL_LIN_TAPS)
        throw std::invalid_argument("pixel model: lin must have " +
                                    std::to_string(PIXEL_SETS * PIXEL_LIN_TAPS) + " weights");
    if (shape.size() != size_t(PIXEL_SHAPE_POINTS))
        throw std::invalid_argument("pixel model: shape must have " +
                                    std::to_string(PIXEL_SHAPE_POINTS) + " points");
    if (scale_prior.size() != size_t(PIXEL_SETS) * PIXEL_BUCKETS)
        throw std::invalid_argument("pixel model: scale_prior must have " +
                                    std::to_string(PIXEL_SETS * PIXEL_BUCKETS) + " entries");
    for (int32_t w : lin)
        if (w < -(1 << 20) || w > (1 << 20))
            throw std::invalid_argument("pixel model: linear weight out of range");
    int32_t last = 0;
    for (int32_t f : shape) {
        if (f < last || f > (1 << PIXEL_SHAPE_BITS))
            throw std::invalid_argument("pixel model: shape table must rise within [0, 2^20]");
        last = f;
    }
    for (int32_t s : scale_prior)
        if (s < 1 || s > kMaxQ4)
            throw std::invalid_argument("pixel model: scale prior out of [1, 4080]");
}

pixel_coder::pixel_coder(pixel_model_params params) : d_params(std::move(params))
{
    d_params.validate();
}

std::vector<uint8_t>
pixel_coder::encode(const uint8_t* pixels, size_t height, size_t width, size_t channels) const
{
    check_shape(height, width, channels);
    pixel_model model(d_params, width, channels);
    range_encoder enc(PIXEL_PRECISION);
    for_each_subpixel(model, height, width, channels, [&](const prediction& pred, size_t i) {
        const int v = pixels[i];
        const uint32_t lo = model.cdf(pred, v), hi = model.cdf(pred, v + 1);
        enc.encode(lo, hi - lo);
        return v;
    });
    return enc.finish();
}

void pixel_coder::decode(const uint8_t* data,
                         size_t size,
                         size_t height,
                         size_t width,
                         size_t channels,
                         uint8_t* pixels) const
{
    check_shape(height, width, channels);
    pixel_model model(d_params, width, channels);
    range_decoder dec(data, size, PIXEL_PRECISION);
    for_each_subpixel(model, height, width, channels, [&](const prediction& pred, size_t i) {
        const uint32_t target = dec.target();
        int lo = 0, hi = 256; // cdf(lo) <= target < cdf(hi)
        while (hi - lo > 1) {
            const int mid = (lo + hi) / 2;
            if (model.cdf(pred, mid) <= target)
                lo = mid;
            else
                hi = mid;
        }
        const uint32_t start = model.cdf(pred, lo);
        dec.consume(start, model.cdf(pred, lo + 1) - start);
        pixels[i] = uint8_t(lo);
        return lo;
    });
}

pixel_analysis
pixel_coder::analyse(const uint8_t* pixels, size_t height, size_t width, size_t channels) const
{
    check_shape(height, width, channels);
    pixel_model model(d_params, width, channels);
    pixel_analysis out;
    const size_t n = height * width * channels;
    out.mu.resize(n);
    out.scale.resize(n);
    out.bucket.resize(n);
    out.bits.resize(n);
    for_each_subpixel(model, height, width, channels, [&](const prediction& pred, size_t i) {
        const int v = pixels[i];
        out.mu[i] = pred.mu;
        out.scale[i] = pred.scale;
        out.bucket[i] = pred.bucket;
        const uint32_t freq = model.cdf(pred, v + 1) - model.cdf(pred, v);
        out.bits[i] = float(PIXEL_PRECISION - std::log2(double(freq))); // reporting only
        return v;
    });
    return out;
}

} // namespace lmsscc
} // namespace gr
