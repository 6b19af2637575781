// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* Unit tests of the pixel coder (run by ctest): exact round trips over grey
 * and RGB images of awkward sizes, determinism, garbage input, parameter
 * validation, compression on easy and hopeless images, decoding speed. */

#include <gnuradio/lmsscc/pixel_model.h>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <random>
#include <vector>

#include "qa_check.h"

using namespace gr::lmsscc;

/* Valid tables built from integers only: predict W, a piecewise-linear
 * residual CDF (a triangle density on [-4, 4]), scale prior 1.0 everywhere. */
static pixel_model_params simple_params()
{
    pixel_model_params p;
    p.lin.assign(PIXEL_SETS * PIXEL_LIN_TAPS, 0);
    for (int s = 0; s < PIXEL_SETS; ++s)
        p.lin[s * PIXEL_LIN_TAPS] = 1 << PIXEL_LIN_SHIFT;
    p.shape.resize(PIXEL_SHAPE_POINTS);
    const int64_t one = int64_t(1) << PIXEL_SHAPE_BITS;
    for (int i = 0; i < PIXEL_SHAPE_POINTS; ++i) {
        const int64_t u = i - (PIXEL_SHAPE_POINTS - 1) / 2; // in 1/64
        const int64_t a = std::min<int64_t>(std::abs(u), 256); // triangle of half-width 4 = 256/64
        const int64_t tail = one * (256 - a) * (256 - a) / (2 * 256 * 256);
        p.shape[i] = int32_t(u < 0 ? tail : one - tail);
    }
    p.scale_prior.assign(PIXEL_SETS * PIXEL_BUCKETS, 16);
    return p;
}

static std::vector<uint8_t> smooth_image(size_t h, size_t w, size_t c, std::mt19937& rng)
{
    std::vector<uint8_t> img(h * w * c);
    std::uniform_int_distribution<int> noise(-2, 2);
    for (size_t y = 0; y < h; ++y)
        for (size_t x = 0; x < w; ++x)
            for (size_t k = 0; k < c; ++k) {
                const int v = int((x * 3 + y * 2 + k * 40) % 200) + 20 + noise(rng);
                img[(y * w + x) * c + k] = uint8_t(std::clamp(v, 0, 255));
            }
    return img;
}

static std::vector<uint8_t> noise_image(size_t n, std::mt19937& rng)
{
    std::vector<uint8_t> img(n);
    for (auto& v : img)
        v = uint8_t(rng() & 0xFF);
    return img;
}

static bool round_trips(const pixel_coder& coder, const std::vector<uint8_t>& img, size_t h, size_t w, size_t c)
{
    const std::vector<uint8_t> bytes = coder.encode(img.data(), h, w, c);
    std::vector<uint8_t> back(img.size(), 0x5A);
    coder.decode(bytes.data(), bytes.size(), h, w, c, back.data());
    return back == img;
}

static void test_round_trips()
{
    const pixel_coder coder(simple_params());
    std::mt19937 rng(7);
    const size_t sizes[][2] = { { 1, 1 }, { 1, 7 }, { 9, 1 }, { 2, 2 }, { 3, 5 }, { 17, 31 }, { 64, 65 } };
    for (const auto& s : sizes)
        for (size_t c : { size_t(1), size_t(3) }) {
            CHECK(round_trips(coder, smooth_image(s[0], s[1], c, rng), s[0], s[1], c));
            CHECK(round_trips(coder, noise_image(s[0] * s[1] * c, rng), s[0], s[1], c));
        }
    // extreme values: all 0, all 255, alternating (the CDF ends and the floor)
    for (uint8_t v : { uint8_t(0), uint8_t(255) })
        CHECK(round_trips(coder, std::vector<uint8_t>(20 * 20 * 3, v), 20, 20, 3));
    std::vector<uint8_t> stripes(33 * 33);
    for (size_t i = 0; i < stripes.size(); ++i)
        stripes[i] = (i % 2) ? 255 : 0;
    CHECK(round_trips(coder, stripes, 33, 33, 1));
}

static void test_deterministic_and_compresses()
{
    const pixel_coder coder(simple_params());
    std::mt19937 rng(11);
    const size_t h = 96, w = 96;
    const auto smooth = smooth_image(h, w, 3, rng);
    const auto a = coder.encode(smooth.data(), h, w, 3);
    const auto b = coder.encode(smooth.data(), h, w, 3);
    CHECK(a == b);
    const double smooth_bps = 8.0 * a.size() / smooth.size();
    std::printf("smooth %.3f bps, ", smooth_bps);
    CHECK(smooth_bps < 4.0); // +-2 noise on a ramp: log2(5) = 2.3 + the crude test tables
    const auto noise = noise_image(h * w * 3, rng);
    const double noise_bps = 8.0 * coder.encode(noise.data(), h, w, 3).size() / noise.size();
    std::printf("noise %.3f bps\n", noise_bps);
    CHECK(noise_bps > 7.9 && noise_bps < 9.0); // incompressible; the floor bounds the loss
}

static void test_garbage_decodes_safely()
{
    const pixel_coder coder(simple_params());
    std::mt19937 rng(3);
    for (size_t len : { size_t(0), size_t(1), size_t(5), size_t(300) }) {
        const auto junk = noise_image(len, rng);
        std::vector<uint8_t> out(12 * 13 * 3);
        coder.decode(junk.data(), junk.size(), 12, 13, 3, out.data()); // must not crash or hang
        CHECK(out.size() == 12 * 13 * 3);
    }
}

static void test_validation()
{
    CHECK(throws_invalid([] {
        auto p = simple_params();
        p.lin.pop_back();
        pixel_coder c(p);
    }));
    CHECK(throws_invalid([] {
        auto p = simple_params();
        p.shape[100] = p.shape[99] - 1; // not monotone
        pixel_coder c(p);
    }));
    CHECK(throws_invalid([] {
        auto p = simple_params();
        p.scale_prior[0] = 0;
        pixel_coder c(p);
    }));
    const pixel_coder coder(simple_params());
    uint8_t px[4] = { 0, 0, 0, 0 };
    CHECK(throws_invalid([&] { coder.encode(px, 2, 1, 2); })); // 2 channels
    CHECK(throws_invalid([&] { coder.encode(px, 0, 4, 1); }));
}

static void test_decode_speed()
{
    const pixel_coder coder(simple_params());
    std::mt19937 rng(5);
    const auto img = smooth_image(200, 200, 3, rng);
    const auto bytes = coder.encode(img.data(), 200, 200, 3);
    std::vector<uint8_t> back(img.size());
    const auto t0 = std::chrono::steady_clock::now();
    coder.decode(bytes.data(), bytes.size(), 200, 200, 3, back.data());
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double rate = double(img.size()) / s;
    std::printf("decode: %.0f subpixels/s\n", rate);
    CHECK(back == img);
    CHECK(rate >= 50000.0); // the target on one core
}

int main()
{
    test_round_trips();
    test_deterministic_and_compresses();
    test_garbage_decodes_safely();
    test_validation();
    test_decode_speed();
    return qa_exit_code("qa_pixel_model");
}
