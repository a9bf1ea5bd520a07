#include "evaluation/fit_plan.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace reco::evaluation {
namespace {

TEST(FitPlanTest, OneThreadRunsEverythingInIndexOrder) {
  const FitPlan p = plan_fits({1, 3, 2}, {1, 4, 4}, 1);
  EXPECT_EQ(p.together, (std::vector<size_t>{0, 1, 2}));
  EXPECT_TRUE(p.alone.empty());
  EXPECT_DOUBLE_EQ(p.estimated_wall, 6.0);
}

TEST(FitPlanTest, FoldsThatCannotSplitRunSideBySideLargestFirst) {
  const FitPlan p = plan_fits({1, 1, 1, 1, 1, 1.25}, {1, 1, 1, 1, 1, 1}, 2);
  EXPECT_EQ(p.together, (std::vector<size_t>{5, 0, 1, 2, 3, 4}));
  EXPECT_TRUE(p.alone.empty());
  // 1.25 + 1 + 1 on one thread, 1 + 1 + 1 on the other.
  EXPECT_DOUBLE_EQ(p.estimated_wall, 3.25);
}

TEST(FitPlanTest, TheFoldOfTheLastRoundIsSplitWhenItCan) {
  // Five splittable folds on two threads: four side by side, the fifth on both threads.
  const FitPlan p = plan_fits({1, 1, 1, 1, 1}, {8, 8, 8, 8, 8}, 2);
  EXPECT_EQ(p.together.size(), 4u);
  ASSERT_EQ(p.alone.size(), 1u);
  EXPECT_EQ(p.alone_threads, std::vector<int>{2});
  EXPECT_DOUBLE_EQ(p.estimated_wall, 2.0 + 1.0 / (2 * kSplitEfficiency));
  // Five folds and the larger refit fill three rounds exactly: nothing is split.
  const FitPlan q = plan_fits({1, 1, 1, 1, 1, 1.25}, {8, 8, 8, 8, 8, 8}, 2);
  EXPECT_TRUE(q.alone.empty());
  // A task never gets more threads than it can use.
  const FitPlan r = plan_fits({1, 1, 1}, {2, 2, 2}, 4);
  for (const int t : r.alone_threads) EXPECT_LE(t, 2);
}

TEST(FitPlanTest, EveryTaskRunsOnceWithinItsThreadLimit) {
  for (const int threads : {1, 2, 3, 4}) {
    std::vector<std::atomic<int>> runs(7);
    std::mutex m;
    std::vector<std::pair<size_t, int>> given;
    std::vector<PlannedTask> tasks;
    for (size_t k = 0; k < runs.size(); ++k) {
      const int max_threads = k % 2 == 0 ? 3 : 1;
      tasks.push_back({1.0 + static_cast<double>(k % 3), max_threads, [&, k](int t) {
                         ++runs[k];
                         std::lock_guard lock(m);
                         given.emplace_back(k, t);
                       }});
    }
    run_planned(tasks, threads);
    for (const auto& r : runs) EXPECT_EQ(r.load(), 1) << threads << " threads";
    for (const auto& [k, t] : given) {
      EXPECT_GE(t, 1);
      EXPECT_LE(t, tasks[k].max_threads);
      EXPECT_LE(t, threads);
    }
  }
}

TEST(FitPlanTest, TheLowestFailedTaskIsReportedAndNothingStartsAfterAFailure) {
  std::atomic<int> started{0};
  std::vector<PlannedTask> tasks;
  for (int k = 0; k < 6; ++k) {
    tasks.push_back({1.0, 1, [&, k](int) {
                       ++started;
                       if (k == 2 || k == 4) throw std::runtime_error("task " + std::to_string(k));
                     }});
  }
  try {
    run_planned(tasks, 1);
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "task 2");
  }
  EXPECT_EQ(started.load(), 3);  // tasks 0, 1, 2; then nothing more starts
  try {
    run_planned(tasks, 2);
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "task 2");
  }
}

}  // namespace
}  // namespace reco::evaluation
