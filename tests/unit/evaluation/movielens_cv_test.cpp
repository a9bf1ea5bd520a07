// Real data: default SVD, 5-fold CV with seed 42 on MovieLens ml-latest-small. Surprise gets a
// mean RMSE of about 0.873 here; a correct re-implementation with another random generator lands
// close to it.

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>

#include "algorithms/train.h"
#include "evaluation/cross_validate.h"
#include "movielens_ratings.h"

namespace reco::evaluation {
namespace {

TEST(MovieLensCvTest, DefaultSvdFiveFoldMatchesTheReferenceAccuracy) {
  RECO_REQUIRE_MOVIELENS_SMALL(raw);
  const Dataset data = Dataset::from_raw(raw);
  ASSERT_EQ(data.size(), 100836u);
  const auto params = algorithms::default_params("svd");

  auto wall = [](auto&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  CvReport two;
  const double wall2 = wall([&] { two = cross_validate(data, "svd", params, {0.5, 5}, 5, 42, 2); });
  std::cout << two.format_table();
  std::cout << "CV wall time: " << wall2 << " s with 2 threads\n";
#ifdef NDEBUG
  // Optimized builds only: unoptimized sanitizer builds take minutes per run, and thread-count
  // independence is also covered on synthetic data.
  CvReport one;
  const double wall1 = wall([&] { one = cross_validate(data, "svd", params, {0.5, 5}, 5, 42, 1); });
  std::cout << "CV wall time: " << wall1 << " s with 1 thread\n";
  for (size_t f = 0; f < 5; ++f) {
    EXPECT_EQ(one.folds[f].rmse, two.folds[f].rmse);
    EXPECT_EQ(one.folds[f].mae, two.folds[f].mae);
  }
#endif

  const MeanStd rmse = two.rmse(), mae = two.mae();
  EXPECT_GE(rmse.mean, 0.86);
  EXPECT_LE(rmse.mean, 0.89);
  EXPECT_GE(mae.mean, 0.65);
  EXPECT_LE(mae.mean, 0.69);
  EXPECT_LT(rmse.std, 0.01);
  for (const auto& f : two.folds) {
    EXPECT_GT(f.rmse, f.mae);
    EXPECT_TRUE(f.n_test == 20168 || f.n_test == 20167);
  }
}

// Surprise 1.1.4's accuracy with each algorithm's defaults (ACCURACY.md); with other folds the
// mean moves by about 0.002, so parity is within 0.003. Slope One with Surprise's truncated
// ratings (integer_ratings); the neighbourhood models keep every positive similarity (exact).
struct Parity {
  const char* algorithm;
  double rmse, mae;
  std::vector<std::pair<std::string, std::string>> params = {};
  const char* label = nullptr;  // the test's name when not the algorithm's
};

class MovieLensParity : public ::testing::TestWithParam<Parity> {};

TEST_P(MovieLensParity, MatchesSurprisesAccuracy) {
  RECO_REQUIRE_MOVIELENS_SMALL(raw);
  const Dataset data = Dataset::from_raw(raw);
  const Parity& p = GetParam();
  const CvReport r = cross_validate(
      data, p.algorithm, algorithms::parse_params(p.algorithm, p.params), {0.5, 5}, 5, 42, 2);
  std::cout << p.algorithm << "\n" << r.format_table();
  EXPECT_NEAR(r.rmse().mean, p.rmse, 0.003);
  EXPECT_NEAR(r.mae().mean, p.mae, 0.003);
}

INSTANTIATE_TEST_SUITE_P(
    Surprise, MovieLensParity,
    ::testing::Values(Parity{"svdpp", 0.8626, 0.6610}, Parity{"nmf", 0.9213, 0.7053},
                      Parity{"knn_basic", 0.9479, 0.7266}, Parity{"knn_with_means", 0.8973, 0.6853},
                      Parity{"knn_with_zscore", 0.8968, 0.6802},
                      Parity{"knn_baseline",
                             0.8525,
                             0.6503,
                             {{"similarity", "pearson_baseline"}, {"user_based", "false"}},
                             "knn_baseline_item_pearson_baseline"},
                      Parity{"slope_one",
                             0.9015,
                             0.6880,
                             {{"integer_ratings", "true"}},
                             "slope_one_integer_ratings"}),
    [](const auto& info) {
      return std::string(info.param.label ? info.param.label : info.param.algorithm);
    });

// NormalPredictor is random: one seed's mean RMSE moves by about 0.01, so parity is checked on
// the mean of five seeds (Surprise: 1.4265 / 1.1402).
TEST(MovieLensCvTest, NormalPredictorMatchesSurprisesAccuracyOverSeeds) {
  RECO_REQUIRE_MOVIELENS_SMALL(raw);
  const Dataset data = Dataset::from_raw(raw);
  double rmse = 0, mae = 0;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const CvReport r =
        cross_validate(data, "normal_predictor", algorithms::default_params("normal_predictor"),
                       {0.5, 5}, 5, seed, 2);
    rmse += r.rmse().mean / 5;
    mae += r.mae().mean / 5;
  }
  EXPECT_NEAR(rmse, 1.4265, 0.006);
  EXPECT_NEAR(mae, 1.1402, 0.006);
}

// Surprise 1.1.4's CoClustering truncates ratings to integers (0.9449 / 0.7312); with
// integer_ratings reco does the same and matches; with the ratings as they are it does better.
TEST(MovieLensCvTest, CoClusteringMatchesSurpriseWithItsIntegerRatingsAndBeatsItWithout) {
  RECO_REQUIRE_MOVIELENS_SMALL(raw);
  const Dataset data = Dataset::from_raw(raw);
  const CvReport surprise_like = cross_validate(
      data, "co_clustering",
      algorithms::parse_params("co_clustering", {{"integer_ratings", "true"}}), {0.5, 5}, 5, 42, 2);
  EXPECT_NEAR(surprise_like.rmse().mean, 0.9449, 0.003);
  EXPECT_NEAR(surprise_like.mae().mean, 0.7312, 0.003);
  const CvReport exact = cross_validate(
      data, "co_clustering", algorithms::default_params("co_clustering"), {0.5, 5}, 5, 42, 2);
  EXPECT_LT(exact.rmse().mean, surprise_like.rmse().mean - 0.01);
}

TEST(MovieLensCvTest, BaselineAlsIsWorseThanSvdButClose) {
  RECO_REQUIRE_MOVIELENS_SMALL(raw);
  const Dataset data = Dataset::from_raw(raw);
  const CvReport r =
      cross_validate(data, "baseline", algorithms::default_params("baseline"), {0.5, 5}, 5, 42, 2);
  std::cout << r.format_table();
  // Surprise's BaselineOnly scores about 0.872 RMSE on this data set.
  EXPECT_GE(r.rmse().mean, 0.86);
  EXPECT_LE(r.rmse().mean, 0.885);
}

}  // namespace
}  // namespace reco::evaluation
