// Kernel benchmarks (Google Benchmark) on a seeded synthetic data set of MovieLens-small shape:
// one SVD fit, all-users top-10, single predictions. Whole-pipeline timings are in
// scripts/bench.sh.
#include <benchmark/benchmark.h>

#include <cmath>

#include "algorithms/params.h"
#include "algorithms/train.h"
#include "core/random.h"
#include "core/ratings.h"
#include "recommendation/top_n.h"

namespace {

using namespace reco;

// 610 users x 9700 items x ~100k ratings with a low-rank signal, like ml-latest-small.
const Dataset& bench_data() {
  static const Dataset data = [] {
    Rng rng(2024);
    RawRatings raw;
    const int users = 610, items = 9700, per_user = 165, rank = 8;
    std::vector<double> uf(users * rank), itf(items * rank);
    for (auto& x : uf) x = rng.normal(0, 0.5);
    for (auto& x : itf) x = rng.normal(0, 0.5);
    for (int u = 0; u < users; ++u) {
      std::vector<bool> used(items, false);
      for (int k = 0; k < per_user; ++k) {
        int i = static_cast<int>(rng.below(items));
        while (used[i]) i = static_cast<int>(rng.below(items));
        used[i] = true;
        double r = 3.5 + rng.normal(0, 0.5);
        for (int f = 0; f < rank; ++f) r += uf[u * rank + f] * itf[i * rank + f];
        r = std::round(std::clamp(r, 0.5, 5.0) * 2) / 2;
        raw.push_back(u + 1, i + 1, static_cast<float>(r));
      }
    }
    return Dataset::from_raw(raw);
  }();
  return data;
}

const algorithms::FactorModel& bench_model() {
  static const algorithms::FactorModel model = [] {
    const auto& data = bench_data();
    const auto params = algorithms::parse_params("svd", {});
    return algorithms::fit("svd", params, data, algorithms::all_rating_indices(data), {0.5f, 5.0f},
                           1);
  }();
  return model;
}

void BM_SvdFit(benchmark::State& state) {
  const auto& data = bench_data();
  const auto params = algorithms::parse_params("svd", {});
  const auto all = algorithms::all_rating_indices(data);
  for (auto _ : state) {
    auto model = algorithms::fit("svd", params, data, all, {0.5f, 5.0f}, 1);
    benchmark::DoNotOptimize(model.user_factors.data());
  }
  state.counters["rating_updates/s"] = benchmark::Counter(
      static_cast<double>(data.size()) * 20 * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SvdFit)->Unit(benchmark::kMillisecond)->MinTime(2.0);

void BM_TopNAllUsers(benchmark::State& state) {
  const auto& model = bench_model();
  for (auto _ : state) {
    auto top = recommendation::top_n_all_users(model, 10, static_cast<int>(state.range(0)));
    benchmark::DoNotOptimize(top.data());
  }
}
BENCHMARK(BM_TopNAllUsers)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Predict(benchmark::State& state) {
  const auto& model = bench_model();
  Rng rng(5);
  std::vector<std::pair<int64_t, int64_t>> pairs(4096);
  for (auto& p : pairs)
    p = {static_cast<int64_t>(rng.below(610) + 1), static_cast<int64_t>(rng.below(9700) + 1)};
  size_t k = 0;
  for (auto _ : state) {
    const auto& p = pairs[k++ & 4095];
    benchmark::DoNotOptimize(model.predict(p.first, p.second));
  }
  state.counters["predictions/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Predict);

}  // namespace

BENCHMARK_MAIN();
