// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* gr-lmsscc engine: the thread pool; see engine_thread_pool.h. */

#include "engine_thread_pool.h"
#include <stdexcept>

namespace gr {
namespace lmsscc {
namespace detail {

namespace {

inline void cpu_relax()
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

} // namespace

void thread_pool::resize(int n)
{
    if (n < 1)
        throw std::invalid_argument("threads must be >= 1");
    if (n == n_)
        return;
    stop_all();
    n_ = n;
    stop_ = false;
    for (int i = 1; i < n; ++i)
        workers_.emplace_back([this] { worker(); });
}

void thread_pool::run(const std::function<void(int)>& f, int nchunks)
{
    if (nchunks <= 0)
        return;
    if (n_ == 1 || nchunks == 1) {
        for (int i = 0; i < nchunks; ++i)
            f(i);
        return;
    }
    job_ = &f;
    err_ = nullptr;
    total_.store(uint32_t(nchunks), std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    const uint64_t gen = (ticket_.load(std::memory_order_relaxed) >> 32) + 1;
    ticket_.store(gen << 32, std::memory_order_seq_cst); // publishes the job
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
        std::lock_guard<std::mutex> lock(mu_);
        cv_.notify_all();
    }
    work(gen);
    for (int spins = 0; done_.load(std::memory_order_acquire) != uint32_t(nchunks); ++spins) {
        if (spins < 4000)
            cpu_relax();
        else // a worker holding a chunk lost its core
            std::this_thread::yield();
    }
    job_ = nullptr;
    if (err_)
        std::rethrow_exception(err_);
}

void thread_pool::work(uint64_t gen)
{
    uint64_t t = ticket_.load(std::memory_order_acquire);
    for (;;) {
        if ((t >> 32) != gen || uint32_t(t) >= total_.load(std::memory_order_relaxed))
            return;
        if (!ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel,
                                           std::memory_order_acquire))
            continue;
        try {
            (*job_)(int(uint32_t(t)));
        } catch (...) {
            std::lock_guard<std::mutex> lock(mu_);
            if (!err_)
                err_ = std::current_exception();
        }
        done_.fetch_add(1, std::memory_order_acq_rel);
        t = ticket_.load(std::memory_order_acquire);
    }
}

void thread_pool::worker()
{
    uint64_t seen = ticket_.load(std::memory_order_acquire) >> 32;
    for (;;) {
        int spins = 0;
        uint64_t g;
        while ((g = ticket_.load(std::memory_order_acquire) >> 32) == seen && !stop_) {
            if (++spins < 20000) {
                cpu_relax();
                continue;
            }
            std::unique_lock<std::mutex> lock(mu_);
            sleepers_.fetch_add(1, std::memory_order_seq_cst);
            cv_.wait(lock, [&] {
                return (ticket_.load(std::memory_order_seq_cst) >> 32) != seen || stop_;
            });
            sleepers_.fetch_sub(1, std::memory_order_seq_cst);
            spins = 0;
        }
        if (stop_)
            return;
        seen = g;
        work(g);
    }
}

void thread_pool::stop_all()
{
    if (workers_.empty())
        return;
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
        cv_.notify_all();
    }
    for (auto& t : workers_)
        t.join();
    workers_.clear();
}

} // namespace detail
} // namespace lmsscc
} // namespace gr
