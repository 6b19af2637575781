// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/*
 * gr-lmsscc: lossless coding of 8-bit grey and RGB images with a causal pixel
 * model and the project's range coder.
 *
 * Every subpixel (of RGB: G, B, R of one pixel in that order, then the next
 * pixel; rows top to bottom) gets a distribution over its 256 values from
 * what is already coded: its causal neighbourhood in the same channel and,
 * for the second and third channel, the channels already coded at the same
 * pixel. The model has a trained
 * part (linear predictors over the causal window, the shape of the residual
 * distribution and the starting scale of each activity context, all integers
 * from train/train_pixel_model.py) and an online part that adapts while
 * coding (blending of predictors by their recent errors, bias cancellation
 * per context, scale per activity context).
 *
 * Determinism: the model uses integer arithmetic only (no float anywhere in
 * the coding path), so the encoder and the decoder compute identical CDFs on
 * every machine and compiler. The parameters are integers too; their hash
 * (the model fingerprint) is the caller's business (python/lmsscc/images).
 */
#ifndef INCLUDED_LMSSCC_PIXEL_MODEL_H
#define INCLUDED_LMSSCC_PIXEL_MODEL_H

#include <gnuradio/lmsscc/api.h>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace gr {
namespace lmsscc {

//! Parameter sets: one per kind of subpixel (grey, then G, B, R of RGB as coded).
constexpr int PIXEL_SETS = 4;
//! Taps of each trained linear predictor (see pixel_model.cc for the order).
constexpr int PIXEL_LIN_TAPS = 20;
//! Fixed-point shift of the linear predictor weights (weight 1.0 == 1 << 12).
constexpr int PIXEL_LIN_SHIFT = 12;
//! Points of the residual shape table: the CDF of the normalised residual u
//! at u = -32 + i / 64, i = 0 .. 4096, in units of 2^-20 (monotone, 0 .. 2^20).
constexpr int PIXEL_SHAPE_POINTS = 4097;
constexpr int PIXEL_SHAPE_BITS = 20;
//! Activity contexts (log-spaced) per set, each with a trained starting scale.
constexpr int PIXEL_BUCKETS = 72;
//! Range coder precision used by the pixel coder.
constexpr unsigned PIXEL_PRECISION = 24;

struct LMSSCC_API pixel_model_params {
    std::vector<int32_t> lin;         //!< PIXEL_SETS x PIXEL_LIN_TAPS, Q12
    std::vector<int32_t> shape;       //!< PIXEL_SHAPE_POINTS, Q20, monotone
    std::vector<int32_t> scale_prior; //!< PIXEL_SETS x PIXEL_BUCKETS, mean |residual| in 1/16

    //! Throws std::invalid_argument when a table has the wrong size or range.
    void validate() const;
};

//! What the model predicted for every subpixel (training and analysis).
struct pixel_analysis {
    std::vector<int32_t> mu;     //!< final prediction, 1/16 units
    std::vector<int32_t> scale;  //!< mean |residual| of its context, 1/16 units
    std::vector<int32_t> bucket; //!< activity context
    std::vector<float> bits;     //!< code length of the subpixel (reporting only)
};

class LMSSCC_API pixel_coder
{
public:
    explicit pixel_coder(pixel_model_params params);

    //! Code an image of height x width x channels (1 or 3) bytes, row-major,
    //! channels interleaved. Returns the range coder's bytes.
    std::vector<uint8_t> encode(const uint8_t* pixels,
                                size_t height,
                                size_t width,
                                size_t channels) const;

    //! Decode height x width x channels subpixels from `data` into `pixels`.
    //! Any byte string decodes to some image (corruption is the container
    //! CRC's job); reading never leaves `data`.
    void decode(const uint8_t* data,
                size_t size,
                size_t height,
                size_t width,
                size_t channels,
                uint8_t* pixels) const;

    //! Run the model over an image without coding it.
    pixel_analysis
    analyse(const uint8_t* pixels, size_t height, size_t width, size_t channels) const;

    const pixel_model_params& params() const { return d_params; }

private:
    pixel_model_params d_params;
};

} // namespace lmsscc
} // namespace gr

#endif
