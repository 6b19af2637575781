// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* Thin pybind11 bindings of the gr-lmsscc kernels. Array arguments are
 * C-contiguous NumPy arrays of the exact dtype (uint32 CDFs and symbols,
 * float32 logits); nothing is converted behind the caller's back. */

#include <gnuradio/lmsscc/cdf_quantizer.h>
#include <gnuradio/lmsscc/range_coder.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <stdexcept>
#include <string>

namespace py = pybind11;
using namespace gr::lmsscc;

using u32_array = py::array_t<uint32_t, py::array::c_style>;
using f32_array = py::array_t<float, py::array::c_style>;

void bind_llama_engine(py::module& m); // llama_engine_python.cc
void bind_scl(py::module& m);          // scl_python.cc
void bind_osd(py::module& m);          // osd_python.cc
void bind_pixel(py::module& m);        // pixel_python.cc

namespace {

size_t cdf_symbols(const u32_array& cdf)
{
    if (cdf.ndim() != 1 || cdf.shape(0) < 2)
        throw std::invalid_argument("cdf must be a 1-D uint32 array of at least 2 entries");
    return size_t(cdf.shape(0)) - 1;
}

void require_1d(const py::array& a, const char* name)
{
    if (a.ndim() != 1)
        throw std::invalid_argument(std::string(name) + " must be 1-D");
}

u32_array quantize(const f32_array& values, unsigned precision, bool logits)
{
    require_1d(values, logits ? "logits" : "probs");
    const size_t n = size_t(values.shape(0));
    u32_array cdf(n + 1);
    {
        py::gil_scoped_release release;
        if (logits)
            logits_to_cdf(values.data(), n, precision, cdf.mutable_data());
        else
            probs_to_cdf(values.data(), n, precision, cdf.mutable_data());
    }
    return cdf;
}

} // namespace

PYBIND11_MODULE(lmsscc_python, m)
{
    m.doc() = "gr-lmsscc C++ kernels: range coder and CDF quantizer";
    m.attr("RC_MIN_PRECISION") = RC_MIN_PRECISION;
    m.attr("RC_MAX_PRECISION") = RC_MAX_PRECISION;

    py::class_<range_encoder>(m, "RangeEncoder")
        .def(py::init<unsigned>(), py::arg("precision"))
        .def_property_readonly("precision", &range_encoder::precision)
        .def_property_readonly("total", &range_encoder::total)
        .def("encode", &range_encoder::encode, py::arg("start"), py::arg("freq"))
        .def(
            "encode_symbol",
            [](range_encoder& self, const u32_array& cdf, uint32_t symbol) {
                self.encode_symbol(cdf.data(), cdf_symbols(cdf), symbol);
            },
            py::arg("cdf"),
            py::arg("symbol"))
        .def(
            "encode_symbols",
            [](range_encoder& self, const u32_array& symbols, const u32_array& cdf) {
                require_1d(symbols, "symbols");
                const size_t nsym = cdf_symbols(cdf);
                py::gil_scoped_release release;
                self.encode_symbols(symbols.data(), size_t(symbols.shape(0)), cdf.data(), nsym);
            },
            py::arg("symbols"),
            py::arg("cdf"))
        .def("finish",
             [](range_encoder& self) {
                 const std::vector<uint8_t> out = self.finish();
                 return py::bytes(reinterpret_cast<const char*>(out.data()), out.size());
             })
        .def_property_readonly("bytes_out", &range_encoder::bytes_out);

    py::class_<range_decoder>(m, "RangeDecoder")
        .def(py::init([](const py::bytes& data, unsigned precision) {
                 const std::string s = data;
                 return new range_decoder(
                     reinterpret_cast<const uint8_t*>(s.data()), s.size(), precision);
             }),
             py::arg("data"),
             py::arg("precision"))
        .def_property_readonly("precision", &range_decoder::precision)
        .def_property_readonly("total", &range_decoder::total)
        .def(
            "decode_symbol",
            [](range_decoder& self, const u32_array& cdf) {
                return self.decode_symbol(cdf.data(), cdf_symbols(cdf));
            },
            py::arg("cdf"))
        .def(
            "decode_symbols",
            [](range_decoder& self, size_t n, const u32_array& cdf) {
                const size_t nsym = cdf_symbols(cdf);
                u32_array out(n);
                {
                    py::gil_scoped_release release;
                    self.decode_symbols(out.mutable_data(), n, cdf.data(), nsym);
                }
                return out;
            },
            py::arg("n"),
            py::arg("cdf"))
        .def("target", &range_decoder::target)
        .def("consume", &range_decoder::consume, py::arg("start"), py::arg("freq"))
        .def_property_readonly("bytes_past_end", &range_decoder::bytes_past_end)
        .def_property_readonly("bytes_read", &range_decoder::bytes_read);

    m.def(
        "logits_to_cdf",
        [](const f32_array& logits, unsigned precision) { return quantize(logits, precision, true); },
        py::arg("logits"),
        py::arg("precision"),
        "Deterministic float32 logits -> uint32 CDF of len(logits)+1 entries, total 2^precision.");
    m.def(
        "logits_to_cdf_lse",
        [](const f32_array& logits, unsigned precision) {
            require_1d(logits, "logits");
            const size_t n = size_t(logits.shape(0));
            u32_array cdf(n + 1);
            double lse = 0.0;
            {
                py::gil_scoped_release release;
                logits_to_cdf(logits.data(), n, precision, cdf.mutable_data(), &lse);
            }
            return py::make_tuple(cdf, lse);
        },
        py::arg("logits"),
        py::arg("precision"),
        "(CDF, log-sum-exp of the logits): -log2 p(i) = (lse - logits[i]) / ln 2 at no extra cost.");
    m.def(
        "probs_to_cdf",
        [](const f32_array& probs, unsigned precision) { return quantize(probs, precision, false); },
        py::arg("probs"),
        py::arg("precision"),
        "Deterministic float32 (unnormalised) probabilities -> uint32 CDF.");

    bind_llama_engine(m);
    bind_scl(m);
    bind_osd(m);
    bind_pixel(m);
}
