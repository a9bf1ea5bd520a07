// The ranking metrics on a case small enough to compute by hand (ranking.h has the formulas).
#include "evaluation/ranking.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include <nlohmann/json.hpp>

#include "../algorithms/test_data.h"
#include "algorithms/factor_model.h"
#include "algorithms/train.h"
#include "evaluation/cross_validate.h"

namespace reco::evaluation {
namespace {

// Items 10..14 ranked by their bias alone (no factors): 10 > 11 > 12 > 13 > 14 for everyone.
// User 1 rated item 10 in training; user 2 rated nothing.
algorithms::FactorModel ranked_model() {
  algorithms::FactorModel m;
  m.algorithm = "svd";
  m.scale = {1.0f, 5.0f};
  m.global_mean = 3.0;
  m.users = IdIndex::from_raw_ids({1, 2});
  m.items = IdIndex::from_raw_ids({10, 11, 12, 13, 14});
  m.user_bias = {0.0f, 0.0f};
  m.item_bias = {0.5f, 0.4f, 0.3f, 0.2f, 0.1f};
  m.n_factors = 1;
  m.user_factors = {0.0f, 0.0f};
  m.item_factors = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  m.rated_offsets = {0, 1, 1};
  m.rated_items = {0};
  return m;
}

// Held out: user 1 rated 11 (5), 13 (4), 14 (2); user 2 rated 14 (4) and 99 (5), an item the
// model never saw (relevant, but it can never be recommended).
Dataset held_out() {
  RawRatings raw;
  raw.push_back(1, 11, 5.0f);
  raw.push_back(1, 13, 4.0f);
  raw.push_back(1, 14, 2.0f);
  raw.push_back(2, 14, 4.0f);
  raw.push_back(2, 99, 5.0f);
  return Dataset::from_raw(raw);
}

std::vector<uint32_t> all(const Dataset& d) {
  std::vector<uint32_t> v(d.size());
  std::iota(v.begin(), v.end(), 0u);
  return v;
}

TEST(RankingMetrics, MatchTheHandComputedValues) {
  const auto model = ranked_model();
  const Dataset test = held_out();
  RankingOptions o;
  o.k = 2;
  o.relevance_threshold = 3.5;
  o.obscure_below = 1;
  const RankingMetrics m = ranking_metrics(model, test, all(test), o);
  // User 1's list: [11, 12] (10 was rated in training); relevant {11, 13}: one hit at rank 1.
  // User 2's list: [10, 11]; relevant {14, 99}: no hit.
  EXPECT_EQ(m.users, 2u);
  EXPECT_EQ(m.relevant_users, 2u);
  EXPECT_DOUBLE_EQ(m.precision, (0.5 + 0.0) / 2);
  EXPECT_DOUBLE_EQ(m.recall, (0.5 + 0.0) / 2);
  const double ndcg1 = 1.0 / (1.0 + 1.0 / std::log2(3.0));
  EXPECT_DOUBLE_EQ(m.ndcg, ndcg1 / 2);
  EXPECT_DOUBLE_EQ(m.map, (1.0 / 2 + 0.0) / 2);  // AP@2 of user 1: (1/1) / min(2, 2)
  EXPECT_DOUBLE_EQ(m.hit_rate, 0.5);
  EXPECT_DOUBLE_EQ(m.coverage, 3.0 / 5);   // 10, 11, 12 shown
  EXPECT_DOUBLE_EQ(m.obscurity, 3.0 / 4);  // every shown item but 10 has no training rating
}

TEST(RankingMetrics, ThresholdKAndSampling) {
  const auto model = ranked_model();
  const Dataset test = held_out();
  RankingOptions o;
  o.k = 4;
  o.relevance_threshold = 4.5;  // only user 1's 11 and user 2's 99 are relevant
  const RankingMetrics m = ranking_metrics(model, test, all(test), o);
  // User 1: [11, 12, 13, 14], hit at rank 1: P 1/4, R 1, AP 1/min(4, 1) = 1.
  // User 2: [10, 11, 12, 13], relevant {99}: nothing.
  EXPECT_DOUBLE_EQ(m.precision, 0.25 / 2);
  EXPECT_DOUBLE_EQ(m.recall, 0.5);
  EXPECT_DOUBLE_EQ(m.map, 0.5);
  EXPECT_DOUBLE_EQ(m.ndcg, 0.5);
  EXPECT_DOUBLE_EQ(m.coverage, 1.0);
  o.max_users = 1;
  const RankingMetrics one = ranking_metrics(model, test, all(test), o);
  EXPECT_EQ(one.users, 1u);
  EXPECT_EQ(ranking_metrics(model, test, all(test), o).precision, one.precision);  // seeded
  o.relevance_threshold = 10;  // nothing relevant: the averages stay 0, coverage still counts
  const RankingMetrics none = ranking_metrics(model, test, all(test), o);
  EXPECT_EQ(none.relevant_users, 0u);
  EXPECT_EQ(none.precision, 0.0);
  EXPECT_GT(none.coverage, 0.0);
}

TEST(RankingMetrics, CrossValidationReportsThemPerFold) {
  const Dataset d = reco::testing::random_dataset(50, 40, 0.3, 11);
  const auto params = algorithms::parse_params("svd", {{"n_factors", "4"}, {"n_epochs", "3"}});
  const CvReport plain = cross_validate(d, "svd", params, {0.5f, 5.0f}, 3, 5, 1);
  EXPECT_TRUE(plain.ranking_rows().empty());
  EXPECT_EQ(plain.format_table().find("Precision"), std::string::npos);
  EXPECT_EQ(plain.format_table().substr(0, 26), std::string(18, ' ') + "Fold 1  ");  // Surprise's

  RankingOptions o;
  o.k = 5;
  const CvReport r = cross_validate(d, "svd", params, {0.5f, 5.0f}, 3, 5, 2, {}, nullptr, &o);
  const auto rows = r.ranking_rows();
  ASSERT_EQ(rows.size(), 7u);
  EXPECT_EQ(rows[0].label, "Precision@5");
  EXPECT_EQ(rows[2].key, "ndcg@5");
  EXPECT_EQ(rows[5].label, "Coverage");
  for (const auto& row : rows) EXPECT_EQ(row.values.size(), 3u);
  EXPECT_NE(r.format_table().find("\nNDCG@5 (testset)  "), std::string::npos);
  const auto j = r.metrics_json();
  EXPECT_EQ(j["ndcg@5"].size(), 3u);
  EXPECT_TRUE(j["mean"].contains("hitrate@5"));
  EXPECT_EQ(j["ranking"]["k"], 5);
  // The same numbers on one thread: ranking is part of the deterministic result.
  const CvReport again = cross_validate(d, "svd", params, {0.5f, 5.0f}, 3, 5, 1, {}, nullptr, &o);
  EXPECT_EQ(again.metrics_json(), j);
  // RMSE and MAE do not change with ranking measured.
  EXPECT_EQ(plain.folds[1].rmse, r.folds[1].rmse);
}

}  // namespace
}  // namespace reco::evaluation
