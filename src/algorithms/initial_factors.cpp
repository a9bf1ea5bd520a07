#include "algorithms/initial_factors.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <numbers>

#include "algorithms/training_set.h"
#include "core/parallel.h"
#include "core/random.h"

namespace reco::algorithms {

InitialFactors::InitialFactors(uint64_t seed, double mean, double std_dev, size_t count,
                               int threads)
    : seed_(seed), mean_(mean), std_dev_(std_dev), values_(count) {
  // Rng::normal draws u1 (redrawn while <= 0) and u2 per pair and returns the cosine variate,
  // then the cached sine variate. The same draws, in the same order:
  const size_t pairs = (count + 1) / 2;
  std::vector<double> u1(pairs), u2(pairs);
  Rng rng(seed, rng_stream::kFactorInit);
  for (size_t k = 0; k < pairs; ++k) {
    double a = rng.uniform();
    while (a <= 0.0) a = rng.uniform();
    u1[k] = a;
    u2[k] = rng.uniform();
  }
  // The transforms, with Rng::normal's exact expressions, in parallel chunks.
  constexpr size_t kChunk = 8192;
  const size_t chunks = (pairs + kChunk - 1) / kChunk;
  std::atomic<size_t> next{0};
  run_on_threads(resolve_threads(threads, static_cast<int>(chunks)), [&] {
    for (size_t c = next.fetch_add(1); c < chunks; c = next.fetch_add(1)) {
      const size_t end = std::min(pairs, (c + 1) * kChunk);
      for (size_t k = c * kChunk; k < end; ++k) {
        const double r = std::sqrt(-2.0 * std::log(u1[k]));
        const double theta = 2.0 * std::numbers::pi * u2[k];
        const double spare = r * std::sin(theta);
        values_[2 * k] = static_cast<float>(mean + std_dev * r * std::cos(theta));
        if (2 * k + 1 < count) values_[2 * k + 1] = static_cast<float>(mean + std_dev * spare);
      }
    }
  });
}

}  // namespace reco::algorithms
