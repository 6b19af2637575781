// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* pybind11 bindings of the ordered-statistics decoder (osd_decoder.h).
 * Matrices are 2-D uint8 0/1 arrays; LLRs and ordering reliabilities are
 * (B, n) float64 arrays (other float dtypes are converted); the output is a
 * (B, n) uint8 array of codeword bits. The GIL is released while decoding.
 * std::invalid_argument from the kernel surfaces as ValueError. */

#include <gnuradio/lmsscc/osd_decoder.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <stdexcept>
#include <string>

namespace py = pybind11;
using namespace gr::lmsscc;

namespace {

using u8_matrix = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>;
using f64_frames = py::array_t<double, py::array::c_style | py::array::forcecast>;

void require_matrix(const u8_matrix& a, const char* what)
{
    if (a.ndim() != 2)
        throw std::invalid_argument(std::string(what) + " must be a 2-D 0/1 array, got " +
                                    std::to_string(a.ndim()) + " dimension(s)");
}

/* (B, n) frames; a 1-D array of n values is one frame. Returns B. */
size_t frame_count(const f64_frames& a, size_t n, const char* what)
{
    const bool ok = (a.ndim() == 2 && size_t(a.shape(1)) == n) ||
                    (a.ndim() == 1 && size_t(a.shape(0)) == n);
    if (!ok) {
        std::string shape;
        for (py::ssize_t d = 0; d < a.ndim(); ++d)
            shape += (d ? ", " : "") + std::to_string(a.shape(d));
        throw std::invalid_argument(std::string(what) + " must have shape (B, " +
                                    std::to_string(n) + "), got (" + shape + ")");
    }
    return a.ndim() == 2 ? size_t(a.shape(0)) : 1;
}

/* Either constructor (from_parity_check / from_generator) on a checked 2-D matrix. */
template <class Factory>
osd_decoder build(Factory factory, const u8_matrix& a, const char* what, int order, bool prune,
                  bool early_stop, int dmin)
{
    require_matrix(a, what);
    osd_decoder::options o;
    o.order = order;
    o.prune = prune;
    o.early_stop = early_stop;
    o.dmin = dmin;
    return factory(a.data(), size_t(a.shape(0)), size_t(a.shape(1)), o);
}

py::dict stats_dict(const osd_stats& s)
{
    py::dict d;
    d["frames"] = s.frames;
    d["candidates"] = s.candidates;
    d["skipped"] = s.skipped;
    d["early_stops"] = s.early_stops;
    return d;
}

} // namespace

void bind_osd(py::module& m)
{
    py::class_<osd_decoder>(m, "OsdDecoder",
                            "Ordered-statistics decoder of a binary linear code (osd_decoder.h).")
        .def(py::init([](const u8_matrix& H, int order, bool prune, bool early_stop, int dmin) {
                 return build(&osd_decoder::from_parity_check, H, "parity-check matrix", order,
                              prune, early_stop, dmin);
             }),
             py::arg("H"), py::arg("order") = 2, py::arg("prune") = true,
             py::arg("early_stop") = true, py::arg("dmin") = -1)
        .def_static(
            "from_generator",
            [](const u8_matrix& G, int order, bool prune, bool early_stop, int dmin) {
                return build(&osd_decoder::from_generator, G, "generator matrix", order, prune,
                             early_stop, dmin);
            },
            py::arg("G"), py::arg("order") = 2, py::arg("prune") = true,
            py::arg("early_stop") = true, py::arg("dmin") = -1)
        .def_property_readonly("n", &osd_decoder::n)
        .def_property_readonly("k", &osd_decoder::k)
        .def_property_readonly("order", &osd_decoder::order)
        .def_property_readonly("prune", &osd_decoder::prune)
        .def_property_readonly("early_stop", &osd_decoder::early_stop)
        .def_property_readonly("dmin", &osd_decoder::dmin)
        .def_property_readonly("dmin_exact", &osd_decoder::dmin_exact)
        .def_property_readonly("patterns_per_frame", &osd_decoder::patterns_per_frame)
        .def(
            "decode",
            [](const osd_decoder& self, const f64_frames& llr, py::object ordering) {
                const size_t n = self.n();
                const size_t frames = frame_count(llr, n, "llr");
                f64_frames order_arr;
                if (!ordering.is_none()) {
                    order_arr = ordering.cast<f64_frames>();
                    if (frame_count(order_arr, n, "ordering reliabilities") != frames ||
                        order_arr.ndim() != llr.ndim())
                        throw std::invalid_argument(
                            "ordering reliabilities must have the same shape as llr");
                }
                py::array_t<uint8_t> out({py::ssize_t(frames), py::ssize_t(n)});
                osd_stats stats;
                {
                    py::gil_scoped_release release;
                    self.decode(llr.data(), ordering.is_none() ? nullptr : order_arr.data(),
                                frames, out.mutable_data(), &stats);
                }
                return py::make_tuple(out, stats_dict(stats));
            },
            py::arg("llr"), py::arg("ordering") = py::none(),
            "(codeword bits (B, n) uint8, work counters dict) for LLRs (B, n).");
}
