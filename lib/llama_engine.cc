// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* gr-lmsscc deterministic Llama engine; see include/gnuradio/lmsscc/llama_engine.h
 * and docs/engine.md. This file holds the engine itself (weights, streams and
 * their KV caches, the RoPE table, the forward pass and its scheduling over
 * threads); its parts are in the engine_*.cc files (docs/engine.md lists them).
 *
 * Determinism rules kept throughout the engine:
 *  - integer dot products inside a block of 32 (exact, any order);
 *  - every float reduction has one fixed order that does not depend on the
 *    batch, the thread count or the SIMD path; vector code only ever puts
 *    independent rows / positions / dimensions in its lanes;
 *  - no FMA (compiled with -ffp-contract=off, intrinsics use mul then add);
 *  - no libm transcendental functions (own exp, sin, cos; sqrt and division
 *    are correctly rounded IEEE operations). */

#include <gnuradio/lmsscc/llama_engine.h>
#include "engine_layers.h"
#include "engine_thread_pool.h"
#include "llama_engine_internal.h"
#include <algorithm>
#include <cstring>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace gr {
namespace lmsscc {

using detail::attend_group;
using detail::KCHUNK;
using detail::rmsnorm;
using detail::silu_mul;
using detail::split;
using detail::thread_pool;

namespace {
// Defaults of llama_engine::set_parallel_min (scheduling only, never results)
constexpr double PARALLEL_MIN_MACS = 1.0e6;     // smaller matrix products stay on one thread
constexpr double PARALLEL_MIN_ATTN = 9.0 * 192; // (positions x heads) below: one thread
} // namespace

struct llama_engine::impl {
    llama_config cfg;
    int head_dim = 0, kv_dim = 0, qkv_rows = 0;
    simd_level simd = simd_level::scalar;
    thread_pool pool{ 1 };
    mutable std::mutex api_mu; // one call at a time (GNU Radio blocks run in threads)
    double par_min_macs = PARALLEL_MIN_MACS;
    double par_min_attn = PARALLEL_MIN_ATTN;

    qmatrix embd, output;
    bool have_embd = false, have_output = false;
    std::vector<float> out_norm;
    std::vector<llama_layer> layers;
    std::vector<bool> layer_set;

    struct stream_state {
        bool live = false;
        int pos = 0;
        std::vector<std::vector<float>> k; // per layer: [chunk][kvh][hd][16]
        std::vector<std::vector<float>> v; // per layer: [t][kvh][hd]
    };
    std::vector<stream_state> streams;

    // RoPE table: [pos][head_dim/2] cos, sin
    std::vector<float> rope_cos, rope_sin;
    std::vector<double> inv_freq;
    int rope_rows = 0;

    struct scratch {
        std::vector<float> X, XN, QKV, ATT, TMP, GU, H, EXPB, logits;
        std::vector<int> ids, toks, pos;
        qactivations qa;
    };
    std::vector<scratch> scr{ 1 }; // one per parallel forward
    void forward(const int* sids, const int* tokens, const int* pos, int n, float* logits,
                 scratch& S, bool use_pool);

    void check_stream(int id) const
    {
        if (id < 0 || id >= int(streams.size()) || !streams[size_t(id)].live)
            throw std::invalid_argument("no such stream: " + std::to_string(id));
    }

    void ensure_rope(int npos)
    {
        const int half = head_dim / 2;
        if (inv_freq.empty()) {
            /* theta^(-2i/head_dim) = a^i with a = theta^(-2/head_dim), the
             * root of a^(head_dim/2) = 1/theta found by a fixed number of
             * Newton steps (plain IEEE double arithmetic, no libm). */
            const double c = 1.0 / double(cfg.rope_theta);
            const int p = half;
            double a = 1.0;
            for (int it = 0; it < 200; ++it) {
                double ap1 = 1.0; // a^(p-1)
                for (int j = 0; j < p - 1; ++j)
                    ap1 *= a;
                const double f = ap1 * a - c;
                a = a - f / (double(p) * ap1);
            }
            inv_freq.resize(size_t(half));
            double f = 1.0;
            for (int i = 0; i < half; ++i) {
                inv_freq[size_t(i)] = f;
                f *= a;
            }
        }
        if (npos <= rope_rows)
            return;
        int target = std::max(npos, std::min(cfg.n_ctx_max, std::max(2 * rope_rows, 256)));
        rope_cos.resize(size_t(target) * half);
        rope_sin.resize(size_t(target) * half);
        for (int p = rope_rows; p < target; ++p)
            for (int i = 0; i < half; ++i) {
                const double angle = double(p) * inv_freq[size_t(i)];
                rope_cos[size_t(p) * half + i] = float(engine_cos(angle));
                rope_sin[size_t(p) * half + i] = float(engine_sin(angle));
            }
        rope_rows = target;
    }

    void rope(float* x, int pos) const
    {
        const int half = head_dim / 2;
        const float* c = rope_cos.data() + size_t(pos) * half;
        const float* s = rope_sin.data() + size_t(pos) * half;
        for (int i = 0; i < half; ++i) {
            const float x0 = x[2 * i], x1 = x[2 * i + 1];
            const float a = x0 * c[i], b = x1 * s[i];
            const float e = x0 * s[i], f = x1 * c[i];
            x[2 * i] = a - b;
            x[2 * i + 1] = e + f;
        }
    }

    void matmul(const qmatrix& w, const qactivations& x, float* y, bool use_pool)
    {
        const int G = w.groups();
        const simd_level level = simd;
        // Small products run on the calling thread: every hand-over costs a
        // synchronisation, which is expensive on a busy machine. Otherwise
        // chunks of row groups, finer than the thread count, so that a thread
        // that is descheduled delays little (see thread_pool). Neither choice
        // changes any result.
        const double macs = double(x.n) * double(w.rows()) * double(w.cols());
        const bool parallel = use_pool && pool.size() > 1 && macs >= par_min_macs;
        const int nchunks = parallel ? std::min(G, 8 * pool.size()) : 1;
        pool.run(
            [&](int chunk) {
                int g0, g1;
                split(G, chunk, nchunks, g0, g1);
                qmatmul(w, x, y, g0, g1, level);
            },
            nchunks);
    }
};

llama_engine::llama_engine(const llama_config& c, int threads, simd_level level) : d_(new impl)
{
    if (c.n_layer <= 0 || c.n_embd <= 0 || c.n_head <= 0 || c.n_head_kv <= 0 || c.n_ff <= 0 ||
        c.n_vocab <= 0)
        throw std::invalid_argument("llama_engine: bad config");
    if (c.n_embd % c.n_head != 0 || c.n_head % c.n_head_kv != 0)
        throw std::invalid_argument("llama_engine: heads do not divide the model width");
    if (c.n_embd % QBLOCK != 0 || c.n_ff % QBLOCK != 0)
        throw std::invalid_argument("llama_engine: widths must be multiples of 32");
    if ((c.n_embd / c.n_head) % 2 != 0)
        throw std::invalid_argument("llama_engine: head dimension must be even");
    d_->cfg = c;
    d_->head_dim = c.n_embd / c.n_head;
    d_->kv_dim = d_->head_dim * c.n_head_kv;
    d_->qkv_rows = c.n_embd + 2 * d_->kv_dim;
    d_->layers.resize(size_t(c.n_layer));
    d_->layer_set.assign(size_t(c.n_layer), false);
    set_simd(level);
    set_threads(threads);
}

llama_engine::~llama_engine() = default;

const llama_config& llama_engine::config() const { return d_->cfg; }

void llama_engine::set_token_embedding(const qmatrix& e)
{
    if (e.rows() != d_->cfg.n_vocab || e.cols() != d_->cfg.n_embd)
        throw std::invalid_argument("token embedding must be n_vocab x n_embd");
    d_->embd = e;
    d_->have_embd = true;
}

void llama_engine::set_output(const qmatrix& o)
{
    if (o.rows() != d_->cfg.n_vocab || o.cols() != d_->cfg.n_embd)
        throw std::invalid_argument("output matrix must be n_vocab x n_embd");
    d_->output = o;
    d_->have_output = true;
}

void llama_engine::set_output_norm(const std::vector<float>& w)
{
    if (int(w.size()) != d_->cfg.n_embd)
        throw std::invalid_argument("output norm must have n_embd weights");
    d_->out_norm = w;
}

void llama_engine::set_layer(int index, const llama_layer& L)
{
    const llama_config& c = d_->cfg;
    if (index < 0 || index >= c.n_layer)
        throw std::out_of_range("layer index out of range");
    auto shape = [](const qmatrix& m, int r, int k, const char* what) {
        if (m.rows() != r || m.cols() != k)
            throw std::invalid_argument(std::string("layer matrix ") + what +
                                        " has the wrong shape");
    };
    shape(L.wqkv, d_->qkv_rows, c.n_embd, "wqkv");
    shape(L.wo, c.n_embd, c.n_embd, "wo");
    shape(L.w_gate_up, 2 * c.n_ff, c.n_embd, "w_gate_up");
    shape(L.w_down, c.n_embd, c.n_ff, "w_down");
    if (int(L.attn_norm.size()) != c.n_embd || int(L.ffn_norm.size()) != c.n_embd)
        throw std::invalid_argument("layer norms must have n_embd weights");
    d_->layers[size_t(index)] = L;
    d_->layer_set[size_t(index)] = true;
}

bool llama_engine::ready() const
{
    if (!d_->have_embd || d_->out_norm.empty())
        return false;
    for (bool b : d_->layer_set)
        if (!b)
            return false;
    return true;
}

int llama_engine::new_stream()
{
    std::lock_guard<std::mutex> api_lock(d_->api_mu);
    auto& ss = d_->streams;
    size_t id = 0;
    while (id < ss.size() && ss[id].live)
        ++id;
    if (id == ss.size())
        ss.emplace_back();
    auto& st = ss[id];
    st.live = true;
    st.pos = 0;
    st.k.assign(size_t(d_->cfg.n_layer), {});
    st.v.assign(size_t(d_->cfg.n_layer), {});
    return int(id);
}

void llama_engine::free_stream(int id)
{
    std::lock_guard<std::mutex> api_lock(d_->api_mu);
    d_->check_stream(id);
    auto& st = d_->streams[size_t(id)];
    st.live = false;
    st.pos = 0;
    st.k.clear();
    st.v.clear();
    st.k.shrink_to_fit();
    st.v.shrink_to_fit();
}

int llama_engine::copy_stream(int src)
{
    std::lock_guard<std::mutex> api_lock(d_->api_mu);
    d_->check_stream(src);
    auto& ss = d_->streams;
    size_t id = 0;
    while (id < ss.size() && ss[id].live)
        ++id;
    if (id == ss.size())
        ss.emplace_back(); // may reallocate: index, never hold references across it
    ss[id].live = true;
    ss[id].pos = ss[size_t(src)].pos;
    ss[id].k = ss[size_t(src)].k;
    ss[id].v = ss[size_t(src)].v;
    return int(id);
}

void llama_engine::reset_stream(int id)
{
    std::lock_guard<std::mutex> api_lock(d_->api_mu);
    d_->check_stream(id);
    auto& st = d_->streams[size_t(id)];
    st.pos = 0;
    st.k.assign(size_t(d_->cfg.n_layer), {});
    st.v.assign(size_t(d_->cfg.n_layer), {});
}

int llama_engine::stream_position(int id) const
{
    std::lock_guard<std::mutex> api_lock(d_->api_mu);
    d_->check_stream(id);
    return d_->streams[size_t(id)].pos;
}

int llama_engine::live_streams() const
{
    std::lock_guard<std::mutex> api_lock(d_->api_mu);
    int n = 0;
    for (const auto& s : d_->streams)
        n += s.live ? 1 : 0;
    return n;
}

void llama_engine::set_threads(int threads)
{
    std::lock_guard<std::mutex> api_lock(d_->api_mu);
    if (threads < 1 || threads > 256)
        throw std::invalid_argument("threads must be in [1, 256]");
    d_->pool.resize(threads);
}

int llama_engine::threads() const { return d_->pool.size(); }

void llama_engine::set_parallel_min(double macs, double attention)
{
    std::lock_guard<std::mutex> api_lock(d_->api_mu);
    d_->par_min_macs = std::max(0.0, macs);
    d_->par_min_attn = std::max(0.0, attention);
}

void llama_engine::set_simd(simd_level level)
{
    std::lock_guard<std::mutex> api_lock(d_->api_mu);
    if (!simd_supported(level))
        throw std::invalid_argument(std::string("SIMD path ") + simd_name(level) +
                                    " is not available in this build or on this CPU");
    d_->simd = level;
}

simd_level llama_engine::simd() const { return d_->simd; }

size_t llama_engine::weight_bytes() const
{
    size_t n = d_->embd.bytes() + (d_->have_output ? d_->output.bytes() : 0);
    for (const auto& L : d_->layers)
        n += L.wqkv.bytes() + L.wo.bytes() + L.w_gate_up.bytes() + L.w_down.bytes();
    return n;
}

size_t llama_engine::cache_bytes() const
{
    std::lock_guard<std::mutex> api_lock(d_->api_mu);
    size_t n = 0;
    for (const auto& s : d_->streams)
        for (size_t l = 0; l < s.k.size(); ++l)
            n += (s.k[l].capacity() + s.v[l].capacity()) * sizeof(float);
    return n;
}

/* The forward pass of n entries (token i into stream sids[i] at position
 * pos[i]; caches already sized, RoPE table ready) into logits (n x vocab).
 * use_pool: split products and attention over the pool's threads; false when
 * the caller already runs several forwards in parallel (one per thread). */
void llama_engine::impl::forward(const int* sids, const int* tokens, const int* pos, int n,
                                 float* logits, scratch& S, bool use_pool)
{
    impl& E = *this;
    const llama_config& c = E.cfg;
    const int D = c.n_embd, HD = E.head_dim, KVD = E.kv_dim, F = c.n_ff, NH = c.n_head;
    const int NKV = c.n_head_kv;
    const size_t N = size_t(n);
    S.X.resize(N * D);
    S.XN.resize(N * D);
    S.QKV.resize(N * E.qkv_rows);
    S.ATT.resize(N * D);
    S.TMP.resize(N * D);
    S.GU.resize(N * 2 * F);
    S.H.resize(N * F);
    S.EXPB.resize(size_t(F));

    for (int i = 0; i < n; ++i)
        E.embd.dequantize_row(tokens[i], S.X.data() + size_t(i) * D);

    for (int l = 0; l < c.n_layer; ++l) {
        const llama_layer& L = E.layers[size_t(l)];
        rmsnorm(S.X.data(), L.attn_norm.data(), S.XN.data(), n, D, c.rms_eps);
        quantize_activations(S.XN.data(), n, D, S.qa);
        E.matmul(L.wqkv, S.qa, S.QKV.data(), use_pool);
        for (int i = 0; i < n; ++i) {
            float* row = S.QKV.data() + size_t(i) * E.qkv_rows;
            for (int h = 0; h < NH; ++h)
                E.rope(row + size_t(h) * HD, pos[i]);
            for (int h = 0; h < NKV; ++h)
                E.rope(row + D + size_t(h) * HD, pos[i]);
            auto& st = E.streams[size_t(sids[i])];
            const int p = pos[i];
            float* kc = st.k[size_t(l)].data() + size_t(p / KCHUNK) * NKV * HD * KCHUNK;
            for (int h = 0; h < NKV; ++h)
                for (int dd = 0; dd < HD; ++dd)
                    kc[(size_t(h) * HD + dd) * KCHUNK + p % KCHUNK] = row[D + h * HD + dd];
            std::memcpy(st.v[size_t(l)].data() + size_t(p) * KVD, row + D + KVD,
                        sizeof(float) * KVD);
        }
        // tasks: (token, KV head) with its query heads together, or single
        // query heads when there are too few tasks for the threads; the
        // result is the same either way
        const int group = NH / NKV;
        const int per =
            group <= 8 && (!use_pool || n * NKV >= 2 * E.pool.size() || E.pool.size() == 1) ? group
                                                                                            : 1;
        const int tasks = n * NH / per;
        double attn_work = 0.0;
        for (int i = 0; i < n; ++i)
            attn_work += double(pos[i] + 1) * NH;
        const std::function<void(int)> attend_task = [&](int task) {
            thread_local std::vector<float> sc;
            const int i = task / (NH / per), h = (task % (NH / per)) * per;
            const auto& st = E.streams[size_t(sids[i])];
            const int T = pos[i] + 1;
            sc.resize(size_t(per) * size_t((T + KCHUNK - 1) / KCHUNK) * KCHUNK);
            attend_group(st.k[size_t(l)].data(), st.v[size_t(l)].data(), NKV, h / group, HD, T, per,
                         S.QKV.data() + size_t(i) * E.qkv_rows + size_t(h) * HD,
                         S.ATT.data() + size_t(i) * D + size_t(h) * HD, sc.data());
        };
        if (use_pool && attn_work >= E.par_min_attn)
            E.pool.run(attend_task, tasks);
        else
            for (int task = 0; task < tasks; ++task)
                attend_task(task);
        quantize_activations(S.ATT.data(), n, D, S.qa);
        E.matmul(L.wo, S.qa, S.TMP.data(), use_pool);
        for (size_t j = 0; j < N * D; ++j)
            S.X[j] = S.X[j] + S.TMP[j];

        rmsnorm(S.X.data(), L.ffn_norm.data(), S.XN.data(), n, D, c.rms_eps);
        quantize_activations(S.XN.data(), n, D, S.qa);
        E.matmul(L.w_gate_up, S.qa, S.GU.data(), use_pool);
        silu_mul(S.GU.data(), n, F, S.H.data(), S.EXPB.data());
        quantize_activations(S.H.data(), n, F, S.qa);
        E.matmul(L.w_down, S.qa, S.TMP.data(), use_pool);
        for (size_t j = 0; j < N * D; ++j)
            S.X[j] = S.X[j] + S.TMP[j];
    }
    rmsnorm(S.X.data(), E.out_norm.data(), S.XN.data(), n, D, c.rms_eps);
    quantize_activations(S.XN.data(), n, D, S.qa);
    E.matmul(E.have_output ? E.output : E.embd, S.qa, logits, use_pool);
}

void llama_engine::step(const int* sids, const int* tokens, int n, float* logits)
{
    std::lock_guard<std::mutex> api_lock(d_->api_mu);
    impl& E = *d_;
    const llama_config& c = E.cfg;
    if (!ready())
        throw std::runtime_error("llama_engine: weights not fully loaded");
    if (n <= 0)
        return;
    const int HD = E.head_dim, KVD = E.kv_dim;
    const int NKV = c.n_head_kv;

    // Positions of the entries; validate before touching any state.
    std::vector<int> pos(static_cast<size_t>(n));
    std::unordered_map<int, int> count;
    for (int i = 0; i < n; ++i) {
        E.check_stream(sids[i]);
        if (tokens[i] < 0 || tokens[i] >= c.n_vocab)
            throw std::invalid_argument("token " + std::to_string(tokens[i]) +
                                        " outside the vocabulary");
        const int p = E.streams[size_t(sids[i])].pos + count[sids[i]]++;
        if (p >= c.n_ctx_max)
            throw std::length_error("stream exceeds the engine's context of " +
                                    std::to_string(c.n_ctx_max) + " tokens");
        pos[size_t(i)] = p;
    }
    int maxpos = 0;
    for (int p : pos)
        maxpos = std::max(maxpos, p);
    E.ensure_rope(maxpos + 1);
    for (const auto& kv : count) {
        auto& st = E.streams[size_t(kv.first)];
        const int len = st.pos + kv.second;
        const size_t chunks = size_t((len + KCHUNK - 1) / KCHUNK);
        for (int l = 0; l < c.n_layer; ++l) {
            st.k[size_t(l)].resize(chunks * size_t(NKV) * HD * KCHUNK, 0.0f);
            st.v[size_t(l)].resize(size_t(len) * KVD, 0.0f);
        }
    }

    // Several streams and threads: each thread runs the whole forward pass
    // for its own streams (one hand-over per step, robust on a busy
    // machine); one stream: its products and attention are split instead.
    // Both give the same bits: an entry's logits do not depend on its
    // batch-mates.
    const int nstreams = int(count.size());
    const int ngroups = std::min(E.pool.size(), nstreams);
    if (E.scr.size() < size_t(std::max(ngroups, 1)))
        E.scr.resize(size_t(std::max(ngroups, 1)));
    if (ngroups <= 1) {
        E.forward(sids, tokens, pos.data(), n, logits, E.scr[0], true);
    } else {
        // streams to groups, balancing entry counts (in order of appearance)
        std::unordered_map<int, int> group_of;
        std::vector<int> load(size_t(ngroups), 0);
        std::vector<std::vector<int>> members(static_cast<size_t>(ngroups));
        for (int i = 0; i < n; ++i) {
            auto it = group_of.find(sids[i]);
            if (it == group_of.end()) {
                const int g = int(std::min_element(load.begin(), load.end()) - load.begin());
                it = group_of.emplace(sids[i], g).first;
                load[size_t(g)] += count[sids[i]];
            }
            members[size_t(it->second)].push_back(i);
        }
        E.pool.run(
            [&](int g) {
                const auto& idx = members[size_t(g)];
                const int m = int(idx.size());
                impl::scratch& S = E.scr[size_t(g)];
                S.ids.resize(size_t(m));
                S.toks.resize(size_t(m));
                S.pos.resize(size_t(m));
                S.logits.resize(size_t(m) * size_t(c.n_vocab));
                for (int k = 0; k < m; ++k) {
                    S.ids[size_t(k)] = sids[idx[size_t(k)]];
                    S.toks[size_t(k)] = tokens[idx[size_t(k)]];
                    S.pos[size_t(k)] = pos[size_t(idx[size_t(k)])];
                }
                E.forward(S.ids.data(), S.toks.data(), S.pos.data(), m, S.logits.data(), S, false);
                for (int k = 0; k < m; ++k)
                    std::memcpy(logits + size_t(idx[size_t(k)]) * c.n_vocab,
                                S.logits.data() + size_t(k) * c.n_vocab,
                                sizeof(float) * size_t(c.n_vocab));
            },
            ngroups);
    }

    for (const auto& kv : count)
        E.streams[size_t(kv.first)].pos += kv.second;
}

} // namespace lmsscc
} // namespace gr
