#include "algorithms/baseline.h"

#include <gtest/gtest.h>

#include <map>

#include "algorithms/train.h"
#include "core/error.h"
#include "test_data.h"

namespace reco::algorithms {
namespace {

using reco::testing::dataset_of;
using reco::testing::fit_factor;
using reco::testing::random_dataset;

TEST(BaselineTest, AlsOneSweepByHand) {
  // u1: i1=4, i2=2; u2: i1=5. mu = 11/3, reg_u = reg_i = 1. Items first:
  //   b_i1 = ((4 - mu) + (5 - mu)) / (1 + 2) = 5/9,  b_i2 = (2 - mu) / (1 + 1) = -5/6
  // then users with the new item biases:
  //   b_u1 = ((4 - mu - 5/9) + (2 - mu + 5/6)) / 3 = -19/54,  b_u2 = (5 - mu - 5/9) / 2 = 7/18
  const Dataset d = dataset_of({{1, 1, 4}, {1, 2, 2}, {2, 1, 5}});
  const FactorModel m = fit_factor(
      "baseline", parse_params("baseline", {{"n_epochs", "1"}, {"reg_u", "1"}, {"reg_i", "1"}}), d,
      all_rating_indices(d), {1, 5}, 0);
  m.validate();
  EXPECT_EQ(m.algorithm, "baseline");
  EXPECT_EQ(m.n_factors, 0u);
  EXPECT_TRUE(m.biased);
  EXPECT_DOUBLE_EQ(m.global_mean, 11.0 / 3.0);
  EXPECT_FLOAT_EQ(m.item_bias[0], 5.0f / 9.0f);
  EXPECT_FLOAT_EQ(m.item_bias[1], -5.0f / 6.0f);
  EXPECT_FLOAT_EQ(m.user_bias[0], -19.0f / 54.0f);
  EXPECT_FLOAT_EQ(m.user_bias[1], 7.0f / 18.0f);
  EXPECT_NEAR(m.predict(1, 2), 11.0 / 3.0 - 19.0 / 54.0 - 5.0 / 6.0, 1e-6);
}

// Surprise's baseline_als / baseline_sgd transcribed with maps, in double.
std::pair<std::map<int64_t, double>, std::map<int64_t, double>> reference_baseline(
    const Dataset& d, const std::vector<uint32_t>& train, bool als, int epochs, double a,
    double b) {
  std::vector<int64_t> users, items;  // inner id order
  std::map<int64_t, std::vector<std::pair<int64_t, double>>> ur, ir;
  double sum = 0;
  for (uint32_t k : train) {
    const int64_t u = d.users.raw(d.user[k]), i = d.items.raw(d.item[k]);
    if (!ur.count(u)) users.push_back(u);
    if (!ir.count(i)) items.push_back(i);
    ur[u].emplace_back(i, d.rating[k]);
    ir[i].emplace_back(u, d.rating[k]);
    sum += d.rating[k];
  }
  const double mu = sum / static_cast<double>(train.size());
  std::map<int64_t, double> bu, bi;
  for (auto u : users) bu[u] = 0;
  for (auto i : items) bi[i] = 0;
  for (int e = 0; e < epochs; ++e) {
    if (als) {
      const double reg_u = a, reg_i = b;
      for (auto i : items) {
        double dev = 0;
        for (auto [u, r] : ir[i]) dev += r - mu - bu[u];
        bi[i] = dev / (reg_i + static_cast<double>(ir[i].size()));
      }
      for (auto u : users) {
        double dev = 0;
        for (auto [i, r] : ur[u]) dev += r - mu - bi[i];
        bu[u] = dev / (reg_u + static_cast<double>(ur[u].size()));
      }
    } else {
      const double reg = a, lr = b;
      for (auto u : users) {
        for (auto [i, r] : ur[u]) {
          const double err = r - (mu + bu[u] + bi[i]);
          bu[u] += lr * (err - reg * bu[u]);
          bi[i] += lr * (err - reg * bi[i]);
        }
      }
    }
  }
  return {bu, bi};
}

void expect_biases(const FactorModel& m, const std::map<int64_t, double>& bu,
                   const std::map<int64_t, double>& bi) {
  ASSERT_EQ(m.n_users(), bu.size());
  ASSERT_EQ(m.n_items(), bi.size());
  for (auto [raw, b] : bu) EXPECT_FLOAT_EQ(m.user_bias[m.users.find(raw)], static_cast<float>(b));
  for (auto [raw, b] : bi) EXPECT_FLOAT_EQ(m.item_bias[m.items.find(raw)], static_cast<float>(b));
}

TEST(BaselineTest, AlsMatchesReference) {
  const Dataset d = random_dataset(40, 30, 0.3, 21);
  std::vector<uint32_t> train = all_rating_indices(d);
  std::reverse(train.begin(), train.end());
  train.resize(train.size() - 20);
  const FactorModel m = fit_factor("baseline", default_params("baseline"), d, train, {0.5, 5}, 0);
  m.validate();
  const auto [bu, bi] = reference_baseline(d, train, true, 10, 15, 10);
  expect_biases(m, bu, bi);
}

TEST(BaselineTest, SgdMatchesReference) {
  const Dataset d = random_dataset(40, 30, 0.3, 22);
  const auto all = all_rating_indices(d);
  const FactorModel m = fit_factor(
      "baseline",
      parse_params("baseline", {{"method", "sgd"}, {"reg", "0.05"}, {"learning_rate", "0.01"}}), d,
      all, {0.5, 5}, 0);
  m.validate();
  const auto [bu, bi] = reference_baseline(d, all, false, 20, 0.05, 0.01);
  expect_biases(m, bu, bi);
}

TEST(BaselineTest, UnknownIdsFallBack) {
  const Dataset d = random_dataset(10, 10, 0.5, 23);
  const FactorModel m =
      fit_factor("baseline", default_params("baseline"), d, all_rating_indices(d), {0.5, 5}, 0);
  EXPECT_DOUBLE_EQ(m.predict(-5, -6), m.clip(m.global_mean));
  EXPECT_DOUBLE_EQ(m.predict(-5, m.items.raw(1)), m.clip(m.global_mean + m.item_bias[1]));
  EXPECT_DOUBLE_EQ(m.predict(m.users.raw(2), -6), m.clip(m.global_mean + m.user_bias[2]));
}

TEST(BaselineTest, ReportsProgress) {
  const Dataset d = random_dataset(10, 10, 0.5, 24);
  int calls = 0;
  fit("baseline", parse_params("baseline", {{"n_epochs", "3"}}), d, all_rating_indices(d), {0.5, 5},
      0, [&](int e, int n, double) {
        ++calls;
        EXPECT_EQ(e, calls);
        EXPECT_EQ(n, 3);
      });
  EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace reco::algorithms
