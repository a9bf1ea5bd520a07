// Kernel benchmarks (Google Benchmark) on a seeded synthetic data set of MovieLens-small shape:
// the SGD epoch kernel per instruction set (rating updates per second of one core), one whole
// SVD fit (sequential and block-parallel), the prediction dot product per instruction set,
// all-users top-10, single predictions. Whole-pipeline timings are in scripts/bench.sh.
#include <benchmark/benchmark.h>

#include <cmath>

#include "algorithms/kernels.h"
#include "algorithms/params.h"
#include "algorithms/simd.h"
#include "algorithms/train.h"
#include "algorithms/training_set.h"
#include "core/random.h"
#include "core/ratings.h"
#include "evaluation/cross_validate.h"
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

// One SGD epoch of the default model (100 factors) over all ratings, on one core: the number
// behind the "rating updates per second per core" target. Arg: 0 scalar, 1 AVX2, 2 AVX-512.
void BM_SgdEpoch(benchmark::State& state) {
  const auto isa = static_cast<algorithms::Isa>(state.range(0));
  if (isa > algorithms::best_supported_isa()) {
    state.SkipWithError("instruction set not supported by this CPU");
    return;
  }
  state.SetLabel(algorithms::isa_name(isa));
  const auto& data = bench_data();
  const auto all = algorithms::all_rating_indices(data);
  const auto set = algorithms::make_training_set(data, all);
  const uint32_t nf = 100, stride = algorithms::kernels::padded_width(nf);
  algorithms::kernels::AlignedFloats p(size_t{set.n_users()} * stride),
      q(size_t{set.n_items()} * stride);
  Rng rng(3);
  for (uint32_t u = 0; u < set.n_users(); ++u)
    for (uint32_t f = 0; f < nf; ++f) p[u * stride + f] = static_cast<float>(rng.normal(0, 0.1));
  for (uint32_t i = 0; i < set.n_items(); ++i)
    for (uint32_t f = 0; f < nf; ++f) q[i * stride + f] = static_cast<float>(rng.normal(0, 0.1));
  std::vector<float> bu(set.n_users()), bi(set.n_items());
  const algorithms::kernels::SgdRates rates{0.005f,  0.005f,  0.005f,  0.005f,
                                            0.9999f, 0.9999f, 0.9999f, 0.9999f};
  const algorithms::kernels::SgdParams params{
      bu.data(), bi.data(), p.data(), q.data(), stride, static_cast<float>(set.global_mean), true};
  const algorithms::kernels::SgdSegments segs{nullptr, set.user_offsets.data(), set.n_users(),
                                              set.item.data(), set.rating.data()};
  for (auto _ : state) {
    benchmark::DoNotOptimize(algorithms::kernels::sgd_pass(isa, rates, params, segs));
  }
  state.counters["rating_updates/s"] = benchmark::Counter(
      static_cast<double>(set.size()) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SgdEpoch)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);

// The prediction dot product (100 factors, in L1). Arg: instruction set as above.
void BM_Dot(benchmark::State& state) {
  const auto isa = static_cast<algorithms::Isa>(state.range(0));
  if (isa > algorithms::best_supported_isa()) {
    state.SkipWithError("instruction set not supported by this CPU");
    return;
  }
  state.SetLabel(algorithms::isa_name(isa));
  std::vector<float> a(100, 0.25f), b(100, 0.5f);
  for (auto _ : state) {
    benchmark::DoNotOptimize(a.data());
    benchmark::DoNotOptimize(algorithms::kernels::dot(isa, a.data(), b.data(), 100));
  }
}
BENCHMARK(BM_Dot)->DenseRange(0, 2);

// A whole default fit (factor initialisation included). Arg 0: Surprise's order on one thread;
// 1: the block-parallel schedule on all cores.
void BM_SvdFit(benchmark::State& state) {
  const auto& data = bench_data();
  const auto params =
      algorithms::parse_params("svd", {{"parallel", state.range(0) ? "on" : "off"}});
  const auto all = algorithms::all_rating_indices(data);
  for (auto _ : state) {
    auto model = algorithms::fit("svd", params, data, all, {0.5f, 5.0f}, 1);
    benchmark::DoNotOptimize(model.user_factors.data());
  }
  state.counters["rating_updates/s"] = benchmark::Counter(
      static_cast<double>(data.size()) * 20 * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SvdFit)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();

// Default-SVD 5-fold cross-validation (seed 42) on 2 threads: the folds run in parallel, each in
// Surprise's order.
void BM_CrossValidate(benchmark::State& state) {
  const auto& data = bench_data();
  const auto params = algorithms::parse_params("svd", {});
  for (auto _ : state) {
    auto report = evaluation::cross_validate(data, "svd", params, {0.5f, 5.0f}, 5, 42, 2);
    benchmark::DoNotOptimize(report.folds.data());
  }
}
BENCHMARK(BM_CrossValidate)->Unit(benchmark::kMillisecond)->UseRealTime();

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
