// A fixed split of work into chunks run on a few threads. Results never depend on how many threads run: callers
// split their work into a number of chunks that is a constant of the algorithm, and each chunk is computed the
// same way whichever thread takes it.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <functional>
#include <thread>
#include <vector>

namespace retouch {

// Threads to use: RETOUCH_THREADS if set, else the hardware's count.
inline int thread_count() {
    if (const char* env = std::getenv("RETOUCH_THREADS")) {
        int n = std::atoi(env);
        if (n > 0) return n;
    }
    unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
}

// Calls body(chunk) for chunk in [0, chunks), spread over at most max_threads threads (0: thread_count());
// returns when all are done.
inline void parallel_chunks(int chunks, const std::function<void(int)>& body, int max_threads = 0) {
    int threads = std::min(max_threads > 0 ? max_threads : thread_count(), chunks);
    if (threads <= 1) {
        for (int c = 0; c < chunks; ++c) body(c);
        return;
    }
    std::atomic<int> next{0};
    auto worker = [&] {
        for (int c = next++; c < chunks; c = next++) body(c);
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (auto& thread : pool) thread.join();
}

}  // namespace retouch
