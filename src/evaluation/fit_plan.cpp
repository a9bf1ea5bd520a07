#include "evaluation/fit_plan.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "core/parallel.h"

namespace reco::evaluation {
namespace {

// Wall time of list scheduling: tasks in the given order, each to the least loaded thread (what
// threads taking the next task from a shared counter do).
double list_schedule_wall(const std::vector<double>& costs, const std::vector<size_t>& order,
                          int threads) {
  std::vector<double> load(static_cast<size_t>(threads), 0.0);
  for (const size_t k : order) {
    *std::min_element(load.begin(), load.end()) += costs[k];
  }
  return *std::max_element(load.begin(), load.end());
}

}  // namespace

FitPlan plan_fits(const std::vector<double>& costs, const std::vector<int>& max_threads,
                  int threads) {
  if (costs.size() != max_threads.size() || threads < 1) {
    throw Error(ErrorKind::kInternal, "plan_fits: inconsistent arguments");
  }
  const size_t n = costs.size();
  FitPlan best;
  if (threads == 1 || n == 0) {
    best.together.resize(n);
    std::iota(best.together.begin(), best.together.end(), size_t{0});
    best.estimated_wall = std::accumulate(costs.begin(), costs.end(), 0.0);
    return best;
  }
  std::vector<size_t> largest_first(n);
  std::iota(largest_first.begin(), largest_first.end(), size_t{0});
  std::stable_sort(largest_first.begin(), largest_first.end(),
                   [&](size_t a, size_t b) { return costs[a] > costs[b]; });
  std::vector<size_t> splittable;
  for (size_t k = 0; k < n; ++k) {
    if (max_threads[k] > 1) splittable.push_back(k);
  }
  std::stable_sort(splittable.begin(), splittable.end(),
                   [&](size_t a, size_t b) { return costs[a] < costs[b]; });

  best.estimated_wall = std::numeric_limits<double>::infinity();
  for (size_t d = 0; d <= splittable.size(); ++d) {
    FitPlan plan;
    std::vector<bool> is_alone(n, false);
    for (size_t j = 0; j < d; ++j) is_alone[splittable[j]] = true;
    for (const size_t k : largest_first) {
      if (!is_alone[k]) plan.together.push_back(k);
    }
    double wall = list_schedule_wall(costs, plan.together, threads);
    for (size_t j = 0; j < d; ++j) {
      const size_t k = splittable[j];
      const int t = std::min(threads, max_threads[k]);
      plan.alone.push_back(k);
      plan.alone_threads.push_back(t);
      wall += costs[k] / (t * kSplitEfficiency);
    }
    plan.estimated_wall = wall;
    if (wall < best.estimated_wall) best = std::move(plan);
  }
  return best;
}

void run_planned(const std::vector<PlannedTask>& tasks, int threads) {
  threads = resolve_threads(threads, std::numeric_limits<int>::max());
  std::vector<double> costs;
  std::vector<int> max_threads;
  for (const PlannedTask& t : tasks) {
    costs.push_back(t.cost);
    max_threads.push_back(std::max(1, t.max_threads));
  }
  const FitPlan plan = plan_fits(costs, max_threads, threads);

  std::vector<std::exception_ptr> errors(tasks.size());
  std::atomic<bool> failed{false};
  auto attempt = [&](size_t k, int t) {
    try {
      tasks[k].run(t);
    } catch (...) {
      errors[k] = std::current_exception();
      failed.store(true);
    }
  };
  std::atomic<size_t> next{0};
  run_on_threads(std::min(threads, static_cast<int>(std::max<size_t>(plan.together.size(), 1))),
                 [&] {
                   while (!failed.load()) {
                     const size_t j = next.fetch_add(1);
                     if (j >= plan.together.size()) return;
                     attempt(plan.together[j], 1);
                   }
                 });
  for (size_t j = 0; j < plan.alone.size() && !failed.load(); ++j) {
    attempt(plan.alone[j], plan.alone_threads[j]);
  }
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace reco::evaluation
