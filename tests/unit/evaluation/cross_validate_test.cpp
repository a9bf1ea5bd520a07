#include "evaluation/cross_validate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "../algorithms/test_data.h"
#include "algorithms/factor_model.h"
#include "algorithms/train.h"
#include "core/error.h"
#include "evaluation/kfold.h"

namespace reco::evaluation {
namespace {

using algorithms::parse_params;
using reco::testing::random_dataset;

void expect_same_numbers(const CvReport& a, const CvReport& b) {
  ASSERT_EQ(a.folds.size(), b.folds.size());
  for (size_t f = 0; f < a.folds.size(); ++f) {
    // Bit-for-bit: the same folds trained the same way give the same doubles.
    EXPECT_EQ(a.folds[f].rmse, b.folds[f].rmse) << "fold " << f;
    EXPECT_EQ(a.folds[f].mae, b.folds[f].mae) << "fold " << f;
    EXPECT_EQ(a.folds[f].n_train, b.folds[f].n_train);
    EXPECT_EQ(a.folds[f].n_test, b.folds[f].n_test);
  }
}

TEST(CrossValidateTest, ParallelEqualsSequentialBitForBit) {
  const Dataset d = random_dataset(80, 60, 0.25, 31);
  const auto params = parse_params("svd", {{"n_factors", "8"}, {"n_epochs", "5"}});
  const CvReport seq = cross_validate(d, "svd", params, {0.5, 5}, 5, 42, 1);
  for (int threads : {2, 3, 5, 8, 0}) {
    SCOPED_TRACE(threads);
    expect_same_numbers(seq, cross_validate(d, "svd", params, {0.5, 5}, 5, 42, threads));
  }
  const auto bparams = algorithms::default_params("baseline");
  expect_same_numbers(cross_validate(d, "baseline", bparams, {0.5, 5}, 4, 9, 1),
                      cross_validate(d, "baseline", bparams, {0.5, 5}, 4, 9, 4));
}

TEST(CrossValidateTest, SplitFoldsGiveTheSameNumbersOnAnyThreadCount) {
  // parallel=on: every fold can be split over threads (the block schedule), so the plan runs
  // some folds alone on several threads; the numbers must not move.
  const Dataset d = random_dataset(90, 70, 0.25, 35);
  const auto params =
      parse_params("svd", {{"n_factors", "8"}, {"n_epochs", "4"}, {"parallel", "on"}});
  const CvReport seq = cross_validate(d, "svd", params, {0.5, 5}, 5, 42, 1);
  for (int threads : {2, 3, 4}) {
    SCOPED_TRACE(threads);
    expect_same_numbers(seq, cross_validate(d, "svd", params, {0.5, 5}, 5, 42, threads));
  }
}

// A fit that records how many threads it was given (and predicts the global mean).
std::mutex probe_mutex;
std::vector<int> probe_threads;

void register_threads_probe() {
  if (algorithms::find_algorithm_or_null("threads_probe")) return;
  algorithms::Algorithm a;
  a.name = "threads_probe";
  a.doc = "the global mean; records FitInput::threads (a test's toy)";
  a.model_type = &algorithms::factor_model_type();
  a.max_fit_threads = [](const algorithms::Params&, size_t) { return 4; };
  a.fit = [](const algorithms::FitInput& in) -> std::unique_ptr<algorithms::Model> {
    {
      std::lock_guard lock(probe_mutex);
      probe_threads.push_back(in.threads);
    }
    auto m = std::make_unique<algorithms::FactorModel>(
        algorithms::make_model_shell(in.set, "threads_probe", in.scale));
    m->user_bias.assign(in.set.n_users(), 0.0f);
    m->item_bias.assign(in.set.n_items(), 0.0f);
    return m;
  };
  algorithms::register_algorithm(std::move(a));
}

TEST(CrossValidateTest, TheLastRoundsFoldGetsTheIdleThreads) {
  register_threads_probe();
  const Dataset d = random_dataset(30, 30, 0.3, 36);
  const auto params = algorithms::default_params("threads_probe");
  probe_threads.clear();
  cross_validate(d, "threads_probe", params, {0.5, 5}, 5, 1, 2);
  std::sort(probe_threads.begin(), probe_threads.end());
  EXPECT_EQ(probe_threads, (std::vector<int>{1, 1, 1, 1, 2}));
  // With the fit on every rating beside them, six fits fill three rounds: one thread each.
  probe_threads.clear();
  const CvAndFit both = cross_validate_and_fit(d, "threads_probe", params, {0.5, 5}, 5, 1, 2);
  EXPECT_EQ(probe_threads, (std::vector<int>(6, 1)));
  ASSERT_NE(both.model, nullptr);
  EXPECT_EQ(both.model->users.size(), d.n_users());
}

TEST(CrossValidateTest, TheFitBesideTheFoldsIsTheStandaloneFit) {
  const Dataset d = random_dataset(70, 50, 0.25, 37);
  const auto all = algorithms::all_rating_indices(d);
  for (const char* parallel : {"off", "on"}) {
    SCOPED_TRACE(parallel);
    const auto params =
        parse_params("svd", {{"n_factors", "6"}, {"n_epochs", "3"}, {"parallel", parallel}});
    const auto alone =
        algorithms::as_factor_model(*algorithms::fit("svd", params, d, all, {0.5, 5}, 11));
    for (int threads : {1, 2, 3}) {
      SCOPED_TRACE(threads);
      const CvAndFit both = cross_validate_and_fit(d, "svd", params, {0.5, 5}, 5, 11, threads);
      expect_same_numbers(both.report, cross_validate(d, "svd", params, {0.5, 5}, 5, 11, 1));
      const auto& m = algorithms::as_factor_model(*both.model);
      EXPECT_EQ(m.user_factors, alone.user_factors);
      EXPECT_EQ(m.item_factors, alone.item_factors);
      EXPECT_EQ(m.user_bias, alone.user_bias);
      EXPECT_EQ(m.item_bias, alone.item_bias);
      EXPECT_GE(both.fit_seconds, 0.0);
    }
  }
}

TEST(CrossValidateTest, FoldNumbersMatchAnIndependentFitAndScore) {
  // Users with a single rating end up unknown in the fold that tests that rating.
  const Dataset d = random_dataset(60, 40, 0.1, 32);
  const auto params = parse_params("svd", {{"n_factors", "4"}, {"n_epochs", "3"}});
  const int k = 3;
  const uint64_t seed = 5;
  const CvReport report = cross_validate(d, "svd", params, {1, 5}, k, seed, 2);
  ASSERT_EQ(report.folds.size(), 3u);
  const KFold kf(d.size(), k, seed);
  bool saw_unknown = false;
  for (int f = 0; f < k; ++f) {
    const auto train = kf.train_indices(f);
    const auto model_ptr = algorithms::fit("svd", params, d, train, {1, 5}, seed);
    const algorithms::Model& model = *model_ptr;
    double sq = 0, abs = 0;
    for (uint32_t r : kf.test_indices(f)) {
      const int64_t ru = d.users.raw(d.user[r]), ri = d.items.raw(d.item[r]);
      saw_unknown |= model.users.find(ru) < 0 || model.items.find(ri) < 0;
      const double err = d.rating[r] - model.predict(ru, ri);
      sq += err * err;
      abs += std::fabs(err);
    }
    const double n = static_cast<double>(kf.test_indices(f).size());
    EXPECT_DOUBLE_EQ(report.folds[f].rmse, std::sqrt(sq / n));
    EXPECT_DOUBLE_EQ(report.folds[f].mae, abs / n);
    EXPECT_EQ(report.folds[f].n_train, train.size());
    EXPECT_GE(report.folds[f].fit_seconds, 0.0);
    EXPECT_GE(report.folds[f].test_seconds, 0.0);
  }
  EXPECT_TRUE(saw_unknown) << "the data set should exercise the unknown-user fallback";
}

TEST(CrossValidateTest, ReportsProgressPerFold) {
  const Dataset d = random_dataset(20, 20, 0.3, 33);
  const auto params = parse_params("svd", {{"n_factors", "2"}, {"n_epochs", "1"}});
  std::vector<std::pair<int, int>> calls;
  cross_validate(d, "svd", params, {0.5, 5}, 4, 1, 2,
                 [&](int done, int total) { calls.emplace_back(done, total); });
  EXPECT_EQ(calls, (std::vector<std::pair<int, int>>{{1, 4}, {2, 4}, {3, 4}, {4, 4}}));
}

TEST(CrossValidateTest, ProgressCountsEveryFitAndCancelStopsWithinAnEpoch) {
  const Dataset d = random_dataset(40, 30, 0.3, 38);
  const auto params = parse_params("svd", {{"n_factors", "2"}, {"n_epochs", "4"}});
  Progress work;
  cross_validate_and_fit(d, "svd", params, {0.5, 5}, 5, 1, 2, {}, &work);
  const auto s = work.snapshot();
  EXPECT_EQ(s.step, "cross-validation + fit");
  EXPECT_DOUBLE_EQ(s.total, 6);
  EXPECT_NEAR(s.done, 6, 1e-9);

  // Cancelled after the first epoch anywhere: the run ends with kCancelled, not a report.
  for (const char* parallel : {"off", "on"}) {
    SCOPED_TRACE(parallel);
    const auto slow =
        parse_params("svd", {{"n_factors", "2"}, {"n_epochs", "100000"}, {"parallel", parallel}});
    Progress cancel_me;
    std::thread canceller([&] {
      while (cancel_me.snapshot().done <= 0) std::this_thread::yield();
      cancel_me.cancel("test");
    });
    try {
      cross_validate(d, "svd", slow, {0.5, 5}, 5, 1, 2, {}, &cancel_me);
      ADD_FAILURE() << "expected a cancellation";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kCancelled);
    }
    canceller.join();
    EXPECT_LT(cancel_me.snapshot().done, 5.0);
  }
}

TEST(CrossValidateTest, RejectsBadFoldCounts) {
  const Dataset d = random_dataset(3, 3, 0.9, 34);  // a handful of ratings
  const auto params = algorithms::default_params("svd");
  auto error_of = [&](int folds) {
    try {
      cross_validate(d, "svd", params, {0.5, 5}, folds, 1, 1);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInput);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(error_of(1), ::testing::HasSubstr("at least 2 folds"));
  EXPECT_THAT(error_of(static_cast<int>(d.size()) + 1),
              ::testing::HasSubstr(
                  fmt::format("cannot cut {} ratings into {} folds", d.size(), d.size() + 1)));
  try {
    cross_validate(d, "svd", algorithms::default_params("baseline"), {0.5, 5}, 2, 1, 1);
    ADD_FAILURE() << "mismatched params accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
  }
}

TEST(CrossValidateTest, AFailingFoldFailsTheRun) {
  const Dataset d = random_dataset(30, 30, 0.5, 35);
  const auto params = parse_params("svd", {{"n_factors", "50"},
                                           {"n_epochs", "200"},
                                           {"lr_all", "1"},
                                           {"reg_all", "0"},
                                           {"init_std_dev", "10"}});
  for (int threads : {1, 3}) {
    try {
      cross_validate(d, "svd", params, {0.5, 5}, 3, 1, threads);
      ADD_FAILURE() << "divergence not reported";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInput);
      EXPECT_THAT(e.what(), ::testing::HasSubstr("diverged"));
    }
  }
}

CvReport fixed_report() {
  CvReport r;
  r.algorithm = "svd";
  r.seed = 42;
  const double rmse[] = {1.1164, 1.0699, 1.1076, 1.1342, 1.0849};
  const double mae[] = {0.9153, 0.8675, 0.8945, 0.9485, 0.8969};
  for (int f = 0; f < 5; ++f) {
    FoldResult fr;
    fr.rmse = rmse[f];
    fr.mae = mae[f];
    fr.fit_seconds = 0.049 + 0.0005 * f;
    fr.test_seconds = 0.001;
    fr.n_train = 8000;
    fr.n_test = 2000;
    r.folds.push_back(fr);
  }
  return r;
}

TEST(CvReportTest, FormatsSurprisesTableExactly) {
  // The table printed in the original guide, trailing spaces included.
  const std::string expected =
      "                  Fold 1  Fold 2  Fold 3  Fold 4  Fold 5  Mean    Std     \n"
      "RMSE (testset)    1.1164  1.0699  1.1076  1.1342  1.0849  1.1026  0.0228  \n"
      "MAE (testset)     0.9153  0.8675  0.8945  0.9485  0.8969  0.9045  0.0268  \n"
      "Fit time          0.05    0.05    0.05    0.05    0.05    0.05    0.00    \n"
      "Test time         0.00    0.00    0.00    0.00    0.00    0.00    0.00    \n";
  EXPECT_EQ(fixed_report().format_table(), expected);
}

TEST(CvReportTest, WideValuesAndOtherFoldCountsKeepTheLayout) {
  CvReport r = fixed_report();
  r.folds.resize(2);
  r.folds[0].fit_seconds = 123.456;
  r.folds[1].fit_seconds = 1.0;
  const std::string table = r.format_table();
  EXPECT_THAT(table, ::testing::StartsWith("                  Fold 1  Fold 2  Mean    Std     \n"));
  // Python's "{:<8}" never truncates; neither do we.
  EXPECT_THAT(table, ::testing::HasSubstr("Fit time          123.46  1.00    62.23   61.23   \n"));
}

TEST(CvReportTest, MeanAndPopulationStd) {
  const double v[] = {1, 2, 3, 4};
  const MeanStd ms = mean_std(v);
  EXPECT_DOUBLE_EQ(ms.mean, 2.5);
  EXPECT_DOUBLE_EQ(ms.std, std::sqrt(1.25));
}

TEST(CvReportTest, JsonHasPerFoldAndSummaryValues) {
  const nlohmann::json j = fixed_report().to_json();
  EXPECT_EQ(j["algorithm"], "svd");
  EXPECT_EQ(j["seed"], 42);
  EXPECT_EQ(j["n_folds"], 5);
  ASSERT_EQ(j["folds"].size(), 5u);
  EXPECT_EQ(j["folds"][0]["fold"], 1);
  EXPECT_EQ(j["folds"][1]["rmse"], 1.0699);
  EXPECT_EQ(j["folds"][4]["n_test"], 2000);
  EXPECT_NEAR(j["rmse"]["mean"].get<double>(), 1.1026, 1e-12);
  EXPECT_NEAR(j["rmse"]["std"].get<double>(), 0.0228, 5e-5);
  EXPECT_NEAR(j["mae"]["mean"].get<double>(), 0.90454, 1e-12);
  EXPECT_TRUE(j.contains("fit_time"));
  EXPECT_TRUE(j.contains("test_time"));
}

}  // namespace
}  // namespace reco::evaluation
