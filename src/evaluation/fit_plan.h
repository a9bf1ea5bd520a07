#pragma once
// How the fits of one cross-validation (and the refit on all ratings, when a training job asks
// for it) share the cores.
//
// Each fit is a task with a cost (its training ratings) and the most threads it can use. A fit
// that can use several (SVD's block schedule) gives the same model whatever number it gets, so
// the plan decides only speed, never results. Two ways to run a task:
//   - together: every thread takes the next task, largest first, and runs it on one thread;
//   - alone: after those, the task gets all threads (up to its maximum) to itself.
// Five equal one-thread folds on two threads take three rounds, the last with one core idle;
// when folds can use two threads, the plan runs four together and the fifth alone on both. The
// plan compares every choice of which splittable tasks run alone (the smallest first) by
// estimated wall time and keeps the best.

#include <cstddef>
#include <functional>
#include <vector>

namespace reco::evaluation {

struct PlannedTask {
  double cost = 1.0;    // any unit, the same for every task of a plan; > 0
  int max_threads = 1;  // 1: the task runs on one thread whatever it is given
  // Runs the task on `threads` threads (1 <= threads <= max_threads).
  std::function<void(int threads)> run;
};

struct FitPlan {
  std::vector<size_t> together;  // in the order threads take them (largest cost first)
  std::vector<size_t> alone;     // run one after another, after `together`
  std::vector<int> alone_threads;
  double estimated_wall = 0.0;  // in cost units (one unit = one unit of cost on one thread)
};

// Splitting a task over n threads is assumed to take cost / n / kSplitEfficiency (barriers,
// uneven blocks); measured near 0.9 for SVD's block schedule on two cores.
inline constexpr double kSplitEfficiency = 0.85;

// The plan for tasks with these costs and maxima on `threads` threads (>= 1). With one thread,
// every task runs together, in index order.
FitPlan plan_fits(const std::vector<double>& costs, const std::vector<int>& max_threads,
                  int threads);

// Runs the tasks as plan_fits() plans them. Once a task throws, no further task starts; the
// exception of the failed task with the lowest index is rethrown after the running ones end.
void run_planned(const std::vector<PlannedTask>& tasks, int threads);

}  // namespace reco::evaluation
