// NMF (nmf.h): one epoch by hand, non-negativity, determinism.
#include "algorithms/nmf.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "algorithms/train.h"
#include "core/error.h"
#include "test_data.h"

namespace reco::algorithms {
namespace {

std::vector<uint32_t> all_of(const Dataset& d) {
  std::vector<uint32_t> v(d.size());
  for (uint32_t k = 0; k < d.size(); ++k) v[k] = k;
  return v;
}

TEST(NmfTest, OneEpochByHand) {
  // One rating r = 4, one factor, p = q = 0.5 (init_low = init_high): est = 0.25;
  //   p <- 0.5 * (q r) / (q est + 1 * 0.06 * p) = 0.5 * 2 / (0.125 + 0.03), and q the same
  //   (its numerator and denominator used p before the update).
  RawRatings raw;
  raw.push_back(7, 70, 4.0f);
  const Dataset d = Dataset::from_raw(raw);
  const auto params = parse_params(
      "nmf", {{"n_factors", "1"}, {"n_epochs", "1"}, {"init_low", "0.5"}, {"init_high", "0.5"}});
  const auto model = fit("nmf", params, d, all_of(d), {1.0f, 5.0f}, 1);
  const FactorModel& m = as_factor_model(*model);
  const double expected = 0.5 * 2.0 / (0.125 + 0.03);
  EXPECT_NEAR(m.user_factors[0], expected, 1e-5);
  EXPECT_NEAR(m.item_factors[0], expected, 1e-5);
  EXPECT_FALSE(m.biased);
  EXPECT_EQ(m.estimate(-1, 0), m.global_mean);  // an unknown user: the global mean
}

TEST(NmfTest, FactorsStayNonNegativeAndTheSeedDecides) {
  const Dataset d = reco::testing::random_dataset(40, 30, 0.3, 6);
  const auto params = default_params("nmf");
  const auto a = fit("nmf", params, d, all_of(d), {0.5f, 5.0f}, 4);
  const auto b = fit("nmf", params, d, all_of(d), {0.5f, 5.0f}, 4);
  const auto c = fit("nmf", params, d, all_of(d), {0.5f, 5.0f}, 5);
  const FactorModel& m = as_factor_model(*a);
  for (const float x : m.user_factors) EXPECT_GE(x, 0.0f);
  for (const float x : m.item_factors) EXPECT_GE(x, 0.0f);
  EXPECT_EQ(m.user_factors, as_factor_model(*b).user_factors);
  EXPECT_NE(m.user_factors, as_factor_model(*c).user_factors);
  const auto biased =
      fit("nmf", parse_params("nmf", {{"biased", "true"}}), d, all_of(d), {0.5f, 5.0f}, 4);
  EXPECT_TRUE(as_factor_model(*biased).biased);
  EXPECT_THAT(
      [&] {
        fit("nmf", parse_params("nmf", {{"init_low", "2"}, {"init_high", "1"}}), d, all_of(d),
            {0.5f, 5.0f}, 4);
      },
      ::testing::ThrowsMessage<Error>(::testing::HasSubstr("init_low 2 is above init_high 1")));
}

}  // namespace
}  // namespace reco::algorithms
