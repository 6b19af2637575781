// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* pybind11 bindings of the SC / SC-list polar decoder (scl_decoder.h).
 * LLRs are a C-contiguous float32 (B, n) array in the package convention
 * (positive means 1); the result is a (B, n) uint8 codeword array. The GIL is
 * released while decoding; bad input raises ValueError. */

#include <gnuradio/lmsscc/scl_decoder.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <stdexcept>
#include <string>
#include <vector>

namespace py = pybind11;
using namespace gr::lmsscc;

namespace {

using f32_array = py::array_t<float, py::array::c_style | py::array::forcecast>;
using u8_array = py::array_t<uint8_t, py::array::c_style>;

size_t check_frames(const scl_decoder& dec, const f32_array& llr)
{
    if (llr.ndim() != 2 || size_t(llr.shape(1)) != dec.n())
        throw std::invalid_argument("llr must have shape (frames, " + std::to_string(dec.n()) +
                                    "), got ndim " + std::to_string(llr.ndim()));
    return size_t(llr.shape(0));
}

} // namespace

void bind_scl(py::module& m)
{
    m.def(
        "polar_transform",
        [](const u8_array& u) {
            if (u.ndim() != 1)
                throw std::invalid_argument("u must be a 1-D uint8 array");
            const size_t n = size_t(u.shape(0));
            if (n < 1 || (n & (n - 1)) != 0)
                throw std::invalid_argument("length must be a power of two");
            u8_array x(n);
            polar_transform(u.data(), n, x.mutable_data());
            return x;
        },
        py::arg("u"),
        "x = u F, F = [[1,0],[1,1]]^(x)m in natural order.");

    py::class_<scl_decoder>(m, "SCLDecoderKernel")
        .def(py::init([](const std::vector<uint8_t>& frozen, int list_size) {
                 if (list_size < 1)
                     throw std::invalid_argument("list_size must be >= 1, got " +
                                                 std::to_string(list_size));
                 return new scl_decoder(frozen, unsigned(list_size));
             }),
             py::arg("frozen"),
             py::arg("list_size"))
        .def_property_readonly("n", &scl_decoder::n)
        .def_property_readonly("k", &scl_decoder::k)
        .def_property_readonly("list_size", &scl_decoder::list_size)
        .def(
            "decode",
            [](const scl_decoder& self, const f32_array& llr) {
                const size_t frames = check_frames(self, llr);
                u8_array out({ py::ssize_t(frames), py::ssize_t(self.n()) });
                py::gil_scoped_release release;
                self.decode(llr.data(), frames, out.mutable_data());
                return out;
            },
            py::arg("llr"),
            "(B, n) float32 LLRs (positive = 1) -> (B, n) uint8 codeword of the best path.")
        .def(
            "decode_with_metrics",
            [](const scl_decoder& self, const f32_array& llr) {
                const size_t frames = check_frames(self, llr);
                u8_array out({ py::ssize_t(frames), py::ssize_t(self.n()) });
                py::array_t<float> pm(frames);
                {
                    py::gil_scoped_release release;
                    self.decode(llr.data(), frames, out.mutable_data(), pm.mutable_data());
                }
                return py::make_tuple(out, pm);
            },
            py::arg("llr"),
            "(codewords, path metric of the chosen path per frame).");
}
