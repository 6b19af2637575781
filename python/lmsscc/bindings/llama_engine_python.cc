// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* pybind11 bindings of the deterministic Llama engine (llama_engine.h).
 * Arrays are C-contiguous NumPy arrays of the exact dtype: uint8 GGUF block
 * bytes, float32 weights/activations, int32 stream ids and tokens. The GIL is
 * released while the engine computes. */

#include <gnuradio/lmsscc/llama_engine.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <stdexcept>
#include <string>
#include <vector>

namespace py = pybind11;
using namespace gr::lmsscc;

namespace {

using u8_array = py::array_t<uint8_t, py::array::c_style>;
using f32_array = py::array_t<float, py::array::c_style>;
using i32_array = py::array_t<int32_t, py::array::c_style>;

void require_bytes(const u8_array& raw, size_t expect, const char* what)
{
    if (size_t(raw.size()) != expect)
        throw std::invalid_argument(std::string(what) + ": expected " + std::to_string(expect) +
                                    " bytes of blocks, got " + std::to_string(raw.size()));
}

std::vector<float> to_vector(const f32_array& a, const char* what)
{
    if (a.ndim() != 1)
        throw std::invalid_argument(std::string(what) + " must be a 1-D float32 array");
    return std::vector<float>(a.data(), a.data() + a.shape(0));
}

} // namespace

void bind_llama_engine(py::module& m)
{
    m.def("engine_simd_best", [] { return std::string(simd_name(best_simd())); },
          "Fastest engine SIMD path compiled in and supported by this CPU.");
    m.def(
        "engine_simd_supported",
        [](const std::string& name) { return simd_supported(parse_simd(name)); },
        py::arg("name"));
    py::class_<qmatrix>(m, "QMatrix")
        .def_static(
            "from_q4_1",
            [](const u8_array& raw, int rows, int cols) {
                require_bytes(raw, size_t(rows) * size_t(cols / 32) * 20, "Q4_1");
                py::gil_scoped_release release;
                return qmatrix::from_q4_1(raw.data(), rows, cols);
            },
            py::arg("raw"), py::arg("rows"), py::arg("cols"))
        .def_static(
            "from_q8_0",
            [](const u8_array& raw, int rows, int cols) {
                require_bytes(raw, size_t(rows) * size_t(cols / 32) * 34, "Q8_0");
                py::gil_scoped_release release;
                return qmatrix::from_q8_0(raw.data(), rows, cols);
            },
            py::arg("raw"), py::arg("rows"), py::arg("cols"))
        .def_static(
            "from_float",
            [](const f32_array& w, int bits) {
                if (w.ndim() != 2)
                    throw std::invalid_argument("weights must be a 2-D float32 array");
                const int rows = int(w.shape(0)), cols = int(w.shape(1));
                py::gil_scoped_release release;
                return qmatrix::from_float(w.data(), rows, cols, bits);
            },
            py::arg("weights"), py::arg("bits") = 8)
        .def_property_readonly("rows", &qmatrix::rows)
        .def_property_readonly("cols", &qmatrix::cols)
        .def_property_readonly("bits", &qmatrix::bits)
        .def_property_readonly("nbytes", &qmatrix::bytes)
        .def("dequantize",
             [](const qmatrix& w) {
                 f32_array out({ w.rows(), w.cols() });
                 float* p = out.mutable_data();
                 py::gil_scoped_release release;
                 for (int r = 0; r < w.rows(); ++r)
                     w.dequantize_row(r, p + size_t(r) * w.cols());
                 return out;
             });

    py::class_<llama_engine>(m, "LlamaEngine")
        .def(py::init([](int n_layer, int n_embd, int n_head, int n_head_kv, int n_ff,
                         int n_vocab, float rms_eps, float rope_theta, int n_ctx_max,
                         int threads, const std::string& simd) {
                 llama_config c;
                 c.n_layer = n_layer;
                 c.n_embd = n_embd;
                 c.n_head = n_head;
                 c.n_head_kv = n_head_kv;
                 c.n_ff = n_ff;
                 c.n_vocab = n_vocab;
                 c.rms_eps = rms_eps;
                 c.rope_theta = rope_theta;
                 c.n_ctx_max = n_ctx_max;
                 return new llama_engine(c, threads, parse_simd(simd));
             }),
             py::arg("n_layer"), py::arg("n_embd"), py::arg("n_head"), py::arg("n_head_kv"),
             py::arg("n_ff"), py::arg("n_vocab"), py::arg("rms_eps"), py::arg("rope_theta"),
             py::arg("n_ctx_max") = 16384, py::arg("threads") = 1, py::arg("simd") = "auto")
        .def("set_token_embedding", &llama_engine::set_token_embedding, py::arg("weights"))
        .def("set_output", &llama_engine::set_output, py::arg("weights"))
        .def(
            "set_output_norm",
            [](llama_engine& e, const f32_array& w) { e.set_output_norm(to_vector(w, "norm")); },
            py::arg("weights"))
        .def(
            "set_layer",
            [](llama_engine& e, int index, const f32_array& attn_norm, const qmatrix& wqkv,
               const qmatrix& wo, const f32_array& ffn_norm, const qmatrix& w_gate_up,
               const qmatrix& w_down) {
                llama_layer L;
                L.attn_norm = to_vector(attn_norm, "attn_norm");
                L.wqkv = wqkv;
                L.wo = wo;
                L.ffn_norm = to_vector(ffn_norm, "ffn_norm");
                L.w_gate_up = w_gate_up;
                L.w_down = w_down;
                e.set_layer(index, L);
            },
            py::arg("index"), py::arg("attn_norm"), py::arg("wqkv"), py::arg("wo"),
            py::arg("ffn_norm"), py::arg("w_gate_up"), py::arg("w_down"))
        .def_property_readonly("ready", &llama_engine::ready)
        .def_property_readonly("n_vocab", [](const llama_engine& e) { return e.config().n_vocab; })
        .def_property_readonly("n_ctx_max",
                               [](const llama_engine& e) { return e.config().n_ctx_max; })
        .def("new_stream", &llama_engine::new_stream)
        .def("copy_stream", &llama_engine::copy_stream, py::arg("source"))
        .def("free_stream", &llama_engine::free_stream, py::arg("stream"))
        .def("reset_stream", &llama_engine::reset_stream, py::arg("stream"))
        .def("stream_position", &llama_engine::stream_position, py::arg("stream"))
        .def_property_readonly("live_streams", &llama_engine::live_streams)
        .def(
            "step",
            [](llama_engine& e, const i32_array& streams, const i32_array& tokens) {
                if (streams.ndim() != 1 || tokens.ndim() != 1 || streams.size() != tokens.size())
                    throw std::invalid_argument("streams and tokens must be 1-D int32 arrays of "
                                                "equal length");
                const int n = int(streams.size());
                f32_array out({ n, e.config().n_vocab });
                float* p = out.mutable_data();
                const int* s = streams.data();
                const int* t = tokens.data();
                py::gil_scoped_release release;
                e.step(s, t, n, p);
                return out;
            },
            py::arg("streams"), py::arg("tokens"),
            "Feed tokens[i] to streams[i] (in order; a stream may repeat) and return the "
            "float32 logits (n x vocab) for the token after each.")
        .def_property("threads", &llama_engine::threads, &llama_engine::set_threads)
        .def("set_parallel_min", &llama_engine::set_parallel_min, py::arg("macs"),
             py::arg("attention"),
             "Work below which a product / the attention stays on one thread (speed only).")
        .def_property(
            "simd",
            [](const llama_engine& e) { return std::string(simd_name(e.simd())); },
            [](llama_engine& e, const std::string& s) { e.set_simd(parse_simd(s)); })
        .def_property_readonly("weight_bytes", &llama_engine::weight_bytes)
        .def_property_readonly("cache_bytes", &llama_engine::cache_bytes);
}
