// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* The engine's thread pool (private header of lib/; engine_thread_pool.cc).
 *
 * Persistent workers sharing jobs of `nchunks` independent chunks.
 * run(f, n) calls f(chunk) for chunk = 0..n-1, each exactly once, on whichever
 * thread claims it first (the caller takes part), and returns when all are
 * done. Chunks are claimed from one atomic ticket that carries the job's
 * generation, so a worker that wakes up late never touches a finished job,
 * and the caller never waits for a worker that has not started: on a busy
 * machine the caller simply computes more chunks itself. Which thread
 * computes a chunk never changes its result (chunks are sets of output rows
 * or of (token, head) pairs). Idle workers spin briefly, then sleep. */
#ifndef INCLUDED_LMSSCC_ENGINE_THREAD_POOL_H
#define INCLUDED_LMSSCC_ENGINE_THREAD_POOL_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace gr {
namespace lmsscc {
namespace detail {

class thread_pool
{
public:
    explicit thread_pool(int n) { resize(n); }
    ~thread_pool() { stop_all(); }
    thread_pool(const thread_pool&) = delete;
    thread_pool& operator=(const thread_pool&) = delete;

    int size() const { return n_; }
    void resize(int n);
    void run(const std::function<void(int)>& f, int nchunks);

private:
    void work(uint64_t gen); // claim and run chunks of job `gen` until none is left
    void worker();
    void stop_all();

    int n_ = 0;
    std::vector<std::thread> workers_;
    std::atomic<uint64_t> ticket_{ 0 }; // generation << 32 | next chunk
    std::atomic<uint32_t> total_{ 0 };
    std::atomic<uint32_t> done_{ 0 };
    std::atomic<int> sleepers_{ 0 };
    std::atomic<bool> stop_{ false };
    const std::function<void(int)>* job_ = nullptr;
    std::exception_ptr err_;
    std::mutex mu_;
    std::condition_variable cv_;
};

/* Chunk tid of nt of [0, total): [begin, end). */
inline void split(int total, int tid, int nt, int& begin, int& end)
{
    begin = int(int64_t(total) * tid / nt);
    end = int(int64_t(total) * (tid + 1) / nt);
}

} // namespace detail
} // namespace lmsscc
} // namespace gr

#endif
