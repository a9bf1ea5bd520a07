// What a cross-validation records for plots: learning curves and the histogram of held-out
// ratings against predictions.
#include "evaluation/diagnostics.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <numeric>

#include "../algorithms/test_data.h"
#include "algorithms/train.h"
#include "evaluation/cross_validate.h"

namespace reco::evaluation {
namespace {

TEST(RatingHistogram, BinsOnHalfStepsOrTwentyEqualBins) {
  const auto half = RatingHistogram::for_scale({0.5f, 5.0f});
  EXPECT_EQ(half.actual.size(), 10u);
  EXPECT_DOUBLE_EQ(half.first, 0.5);
  EXPECT_DOUBLE_EQ(half.width, 0.5);
  const auto stars = RatingHistogram::for_scale({1.0f, 5.0f});
  EXPECT_EQ(stars.actual.size(), 9u);  // 1, 1.5, ..., 5
  const auto wide = RatingHistogram::for_scale({0.0f, 100.0f});
  EXPECT_EQ(wide.actual.size(), 20u);
  EXPECT_NEAR(wide.width, 100.0 / 19, 1e-12);
}

TEST(RatingHistogram, CountsToTheNearestCentreAndClampsAtTheEnds) {
  auto h = RatingHistogram::for_scale({1.0f, 5.0f});
  h.add(1.0, 1.24);  // bin 1.0
  h.add(3.0, 3.26);  // bin 3.5
  h.add(5.0, 7.0);   // past the top: last bin
  h.add(4.0, -2.0);  // below the bottom: first bin
  h.add(4.0, std::nan(""));
  EXPECT_EQ(h.actual, (std::vector<uint64_t>{1, 0, 0, 0, 1, 0, 2, 0, 1}));
  EXPECT_EQ(h.predicted, (std::vector<uint64_t>{3, 0, 0, 0, 0, 1, 0, 0, 1}));
  auto sum = RatingHistogram{};
  sum.merge(h);
  sum.merge(h);
  EXPECT_EQ(sum.actual[6], 4u);
  const auto j = sum.to_json();
  EXPECT_EQ(j["bins"].size(), 9u);
  EXPECT_DOUBLE_EQ(j["bins"][1].get<double>(), 1.5);
  EXPECT_EQ(j["predicted"][0].get<int>(), 6);
}

TEST(CvDiagnostics, EveryRatingOnceAndOneTrainingRmsePerEpoch) {
  const Dataset d = reco::testing::random_dataset(60, 50, 0.3, 7);
  const auto params = algorithms::parse_params("svd", {{"n_factors", "4"}, {"n_epochs", "6"}});
  const CvAndFit both = cross_validate_and_fit(d, "svd", params, {0.5f, 5.0f}, 4, 3, 2);
  const RatingHistogram all = both.report.predictions();
  EXPECT_EQ(std::accumulate(all.actual.begin(), all.actual.end(), uint64_t{0}), d.size());
  EXPECT_EQ(std::accumulate(all.predicted.begin(), all.predicted.end(), uint64_t{0}), d.size());
  for (const auto& f : both.report.folds) {
    ASSERT_EQ(f.epoch_rmse.size(), 6u);
    EXPECT_LT(f.epoch_rmse.back(), f.epoch_rmse.front());  // SGD lowers the training error
  }
  ASSERT_EQ(both.fit_epoch_rmse.size(), 6u);
  // The curve is part of the deterministic result: the same on one thread.
  const CvAndFit again = cross_validate_and_fit(d, "svd", params, {0.5f, 5.0f}, 4, 3, 1);
  EXPECT_EQ(again.fit_epoch_rmse, both.fit_epoch_rmse);
  EXPECT_EQ(again.report.folds[2].epoch_rmse, both.report.folds[2].epoch_rmse);
  const auto j = both.report.diagnostics_json();
  EXPECT_EQ(j["epoch_rmse"].size(), 4u);
  EXPECT_EQ(j["predictions"]["actual"].size(), 10u);
}

}  // namespace
}  // namespace reco::evaluation
