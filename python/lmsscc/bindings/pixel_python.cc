// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* pybind11 bindings of the pixel coder (pixel_model.h). Images are uint8
 * arrays H x W (grey) or H x W x 3 (RGB), C-contiguous; tables are int32
 * arrays. The GIL is released while coding. std::invalid_argument from the
 * kernel surfaces as ValueError. */

#include <gnuradio/lmsscc/pixel_model.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <stdexcept>
#include <string>

namespace py = pybind11;
using namespace gr::lmsscc;

namespace {

using u8_image = py::array_t<uint8_t, py::array::c_style>;
using i32_table = py::array_t<int32_t, py::array::c_style | py::array::forcecast>;

struct image_shape {
    size_t height, width, channels;
};

image_shape shape_of(const u8_image& pixels)
{
    if (pixels.ndim() == 2)
        return { size_t(pixels.shape(0)), size_t(pixels.shape(1)), 1 };
    if (pixels.ndim() == 3)
        return { size_t(pixels.shape(0)), size_t(pixels.shape(1)), size_t(pixels.shape(2)) };
    throw std::invalid_argument("pixels must be a uint8 H x W or H x W x 3 array");
}

std::vector<int32_t> table(const i32_table& a) { return { a.data(), a.data() + a.size() }; }

py::array_t<int32_t> as_array(const std::vector<int32_t>& v, const image_shape& s)
{
    py::array_t<int32_t> out(std::vector<py::ssize_t>{ py::ssize_t(s.height * s.width * s.channels) });
    std::copy(v.begin(), v.end(), out.mutable_data());
    return out;
}

} // namespace

void bind_pixel(py::module& m)
{
    m.attr("PIXEL_SETS") = PIXEL_SETS;
    m.attr("PIXEL_LIN_TAPS") = PIXEL_LIN_TAPS;
    m.attr("PIXEL_SHAPE_POINTS") = PIXEL_SHAPE_POINTS;
    m.attr("PIXEL_BUCKETS") = PIXEL_BUCKETS;

    py::class_<pixel_coder>(m, "PixelCoder")
        .def(py::init([](const i32_table& lin, const i32_table& shape, const i32_table& scale_prior) {
                 pixel_model_params p;
                 p.lin = table(lin);
                 p.shape = table(shape);
                 p.scale_prior = table(scale_prior);
                 return new pixel_coder(std::move(p));
             }),
             py::arg("lin"),
             py::arg("shape"),
             py::arg("scale_prior"))
        .def(
            "encode",
            [](const pixel_coder& self, const u8_image& pixels) {
                const image_shape s = shape_of(pixels);
                std::vector<uint8_t> out;
                {
                    py::gil_scoped_release release;
                    out = self.encode(pixels.data(), s.height, s.width, s.channels);
                }
                return py::bytes(reinterpret_cast<const char*>(out.data()), out.size());
            },
            py::arg("pixels"),
            "Range-coded bytes of a uint8 H x W or H x W x 3 image.")
        .def(
            "decode",
            [](const pixel_coder& self, const py::bytes& data, size_t height, size_t width,
               size_t channels) {
                const std::string s = data;
                std::vector<py::ssize_t> shape{ py::ssize_t(height), py::ssize_t(width) };
                if (channels != 1)
                    shape.push_back(py::ssize_t(channels));
                if (channels != 1 && channels != 3)
                    throw std::invalid_argument("channels must be 1 or 3");
                u8_image out(shape);
                {
                    py::gil_scoped_release release;
                    self.decode(reinterpret_cast<const uint8_t*>(s.data()), s.size(), height, width,
                                channels, out.mutable_data());
                }
                return out;
            },
            py::arg("data"),
            py::arg("height"),
            py::arg("width"),
            py::arg("channels"),
            "The image of the given shape decoded from range-coded bytes.")
        .def(
            "analyse",
            [](const pixel_coder& self, const u8_image& pixels) {
                const image_shape s = shape_of(pixels);
                pixel_analysis a;
                {
                    py::gil_scoped_release release;
                    a = self.analyse(pixels.data(), s.height, s.width, s.channels);
                }
                py::dict out;
                out["mu"] = as_array(a.mu, s);
                out["scale"] = as_array(a.scale, s);
                out["bucket"] = as_array(a.bucket, s);
                py::array_t<float> bits(std::vector<py::ssize_t>{ py::ssize_t(a.bits.size()) });
                std::copy(a.bits.begin(), a.bits.end(), bits.mutable_data());
                out["bits"] = bits;
                return out;
            },
            py::arg("pixels"),
            "Per subpixel (in image order): prediction mu and scale (1/16 units), activity "
            "context, code length in bits.");
}
