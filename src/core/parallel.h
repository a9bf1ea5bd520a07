#pragma once
// Running one worker function on several threads (the workers share a work counter of their
// own); the calling thread does the work itself when one thread is enough.

#include <algorithm>
#include <thread>
#include <vector>

namespace reco {

// Threads to use: `requested` (0 or less: all cores), at least 1 and at most `max_useful`.
inline int resolve_threads(int requested, int max_useful) {
  const int n = requested > 0 ? requested : static_cast<int>(std::thread::hardware_concurrency());
  return std::clamp(n, 1, std::max(1, max_useful));
}

template <typename Worker>
void run_on_threads(int n_threads, const Worker& worker) {
  if (n_threads <= 1) {
    worker();
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(n_threads));
  for (int t = 0; t < n_threads; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
}

}  // namespace reco
