// NormalPredictor (normal_predictor.h): the training ratings' mean and deviation, one
// reproducible draw per pair, distributed as N(mu, sigma^2).
#include "algorithms/normal_predictor.h"

#include <gtest/gtest.h>

#include <cmath>

#include "algorithms/train.h"
#include "test_data.h"

namespace reco::algorithms {
namespace {

TEST(NormalPredictorTest, MeanDeviationAndReproducibleDraws) {
  RawRatings raw;
  const float values[] = {1.0f, 2.0f, 4.0f, 5.0f};
  for (int u = 0; u < 4; ++u) raw.push_back(u, 10 + u, values[u]);
  const Dataset d = Dataset::from_raw(raw);
  const std::vector<uint32_t> all = {0, 1, 2, 3};
  const auto model =
      fit("normal_predictor", default_params("normal_predictor"), d, all, {1.0f, 5.0f}, 11);
  const auto& m = dynamic_cast<const NormalModel&>(*model);
  EXPECT_DOUBLE_EQ(m.mu, 3.0);
  EXPECT_DOUBLE_EQ(m.sigma, std::sqrt((4.0 + 1.0 + 1.0 + 4.0) / 4.0));  // maximum likelihood
  EXPECT_EQ(m.estimate(0, 1), m.estimate(0, 1));
  EXPECT_NE(m.estimate(0, 1), m.estimate(1, 0));
  const auto again =
      fit("normal_predictor", default_params("normal_predictor"), d, all, {1.0f, 5.0f}, 11);
  EXPECT_EQ(m.estimate(2, 3), again->estimate(2, 3));
  const auto other =
      fit("normal_predictor", default_params("normal_predictor"), d, all, {1.0f, 5.0f}, 12);
  EXPECT_NE(m.estimate(2, 3), other->estimate(2, 3));
  EXPECT_GE(m.predict(0, 11), 1.0);  // clipped to the scale
  EXPECT_LE(m.predict(0, 11), 5.0);
}

TEST(NormalPredictorTest, DrawsFollowTheNormal) {
  const Dataset d = reco::testing::random_dataset(100, 100, 0.3, 3);
  std::vector<uint32_t> all(d.size());
  for (uint32_t k = 0; k < d.size(); ++k) all[k] = k;
  const auto model =
      fit("normal_predictor", default_params("normal_predictor"), d, all, {0.5f, 5.0f}, 5);
  const auto& m = dynamic_cast<const NormalModel&>(*model);
  double sum = 0, sq = 0;
  int n = 0;
  for (int64_t u = -1; u < 100; ++u) {
    for (int64_t i = 0; i < 100; ++i) {
      const double z = (m.estimate(u, i) - m.mu) / m.sigma;
      sum += z;
      sq += z * z;
      ++n;
    }
  }
  EXPECT_NEAR(sum / n, 0.0, 0.05);
  EXPECT_NEAR(std::sqrt(sq / n), 1.0, 0.05);
}

}  // namespace
}  // namespace reco::algorithms
