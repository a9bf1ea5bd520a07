// The neighbourhood algorithms (knn.h, similarity.h) and Slope One (slope_one.h): each similarity
// and each predictor on tiny cases computed by hand, the tie order, the kept-neighbour cap, the
// blocked scores against estimate(), threads and seeds, and bad parameters.
#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "algorithms/baseline.h"
#include "algorithms/knn.h"
#include "algorithms/similarity.h"
#include "algorithms/slope_one.h"
#include "algorithms/train.h"
#include "core/error.h"
#include "test_data.h"

namespace reco::algorithms {
namespace {

using reco::testing::dataset_of;
using reco::testing::Triple;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

std::vector<uint32_t> every_rating(const Dataset& d) {
  std::vector<uint32_t> v(d.size());
  for (uint32_t k = 0; k < d.size(); ++k) v[k] = k;
  return v;
}

// Rows from (row, col, value) triples; both orientations.
struct TwoWay {
  RatingRows by_x, by_y;
};
TwoWay rows_of(uint32_t n_x, uint32_t n_y,
               const std::vector<std::tuple<uint32_t, uint32_t, double>>& t) {
  TwoWay w;
  auto fill = [&](RatingRows& rows, uint32_t n, bool by_x) {
    rows.offsets.assign(n + 1, 0);
    for (const auto& [x, y, v] : t) ++rows.offsets[(by_x ? x : y) + 1];
    for (uint32_t r = 0; r < n; ++r) rows.offsets[r + 1] += rows.offsets[r];
    std::vector<uint64_t> next(rows.offsets.begin(), rows.offsets.end() - 1);
    rows.cols.resize(t.size());
    rows.values.resize(t.size());
    for (const auto& [x, y, v] : t) {  // triples are listed with y ascending per x
      const uint64_t p = next[by_x ? x : y]++;
      rows.cols[p] = by_x ? y : x;
      rows.values[p] = v;
    }
  };
  fill(w.by_x, n_x, true);
  fill(w.by_y, n_y, false);
  return w;
}

float sim_of(Similarity s, const TwoWay& w, uint32_t x, uint32_t x2, uint32_t min_support = 1,
             double shrinkage = 100.0) {
  SimilarityOptions o;
  o.similarity = s;
  o.min_support = min_support;
  o.shrinkage = shrinkage;
  return compute_neighbours(w.by_x, w.by_y, o).find(x, x2);
}

TEST(SimilarityTest, EachMeasureByHand) {
  // x0 rates y0..y2 with 1, 2, 3; x1 with 2, 2, 4; x2 rates y0 only (5).
  const TwoWay w =
      rows_of(3, 3, {{0, 0, 1}, {0, 1, 2}, {0, 2, 3}, {1, 0, 2}, {1, 1, 2}, {1, 2, 4}, {2, 0, 5}});
  // cosine: (2 + 4 + 12) / sqrt(14 * 24)
  EXPECT_FLOAT_EQ(sim_of(Similarity::kCosine, w, 0, 1), 18.0 / std::sqrt(14.0 * 24.0));
  // msd: 1 / ((1 + 0 + 1) / 3 + 1)
  EXPECT_FLOAT_EQ(sim_of(Similarity::kMsd, w, 0, 1), 0.6f);
  // pearson: (3 * 18 - 6 * 8) / sqrt((3 * 14 - 36) (3 * 24 - 64))
  EXPECT_FLOAT_EQ(sim_of(Similarity::kPearson, w, 0, 1), 6.0 / std::sqrt(48.0));
  // pearson_baseline on the values as residuals: the cosine times (n - 1) / (n - 1 + shrinkage)
  EXPECT_FLOAT_EQ(sim_of(Similarity::kPearsonBaseline, w, 0, 1, 1, 1.0),
                  18.0 / std::sqrt(14.0 * 24.0) * 2.0 / 3.0);
  EXPECT_FLOAT_EQ(sim_of(Similarity::kPearsonBaseline, w, 0, 1),
                  18.0 / std::sqrt(14.0 * 24.0) * 2.0 / 102.0);
  // Symmetric, 1 on the diagonal.
  EXPECT_EQ(sim_of(Similarity::kPearson, w, 1, 0), sim_of(Similarity::kPearson, w, 0, 1));
  EXPECT_EQ(sim_of(Similarity::kMsd, w, 2, 2), 1.0f);
  // One co-rated y: msd 1 / (9 + 1); pearson 0 (zero denominator); pearson_baseline needs 2.
  EXPECT_FLOAT_EQ(sim_of(Similarity::kMsd, w, 2, 1), 0.1f);
  EXPECT_EQ(sim_of(Similarity::kPearson, w, 2, 1), 0.0f);
  EXPECT_EQ(sim_of(Similarity::kPearsonBaseline, w, 2, 1, 1, 0.0), 0.0f);
  // min_support 2 drops the pair with one co-rated y.
  EXPECT_EQ(sim_of(Similarity::kMsd, w, 2, 1, 2), 0.0f);
  EXPECT_FLOAT_EQ(sim_of(Similarity::kMsd, w, 0, 1, 3), 0.6f);
}

TEST(SimilarityTest, NegativeSimilaritiesAreNotKeptAndTheCapKeepsTheLargest) {
  // x1 is anti-correlated with x0 (pearson -1), x2 and x3 correlated with it.
  const TwoWay w = rows_of(4, 3,
                           {{0, 0, 1},
                            {0, 1, 2},
                            {0, 2, 3},
                            {1, 0, 3},
                            {1, 1, 2},
                            {1, 2, 1},
                            {2, 0, 1},
                            {2, 1, 2},
                            {2, 2, 4},
                            {3, 0, 2},
                            {3, 1, 3},
                            {3, 2, 4}});
  SimilarityOptions o;
  o.similarity = Similarity::kPearson;
  const NeighbourLists all = compute_neighbours(w.by_x, w.by_y, o);
  EXPECT_EQ(all.find(0, 1), 0.0f);
  EXPECT_FLOAT_EQ(all.find(0, 3), 1.0f);
  EXPECT_GT(all.find(0, 2), 0.9f);
  EXPECT_LT(all.find(0, 2), 1.0f);
  o.max_neighbors = 1;
  const NeighbourLists one = compute_neighbours(w.by_x, w.by_y, o);
  EXPECT_EQ(one.offsets[1] - one.offsets[0], 1u);
  EXPECT_FLOAT_EQ(one.find(0, 3), 1.0f);  // the largest
  EXPECT_EQ(one.find(0, 2), 0.0f);
  // The same lists on one thread and on two.
  o.max_neighbors = 0;
  o.threads = 2;
  const NeighbourLists two = compute_neighbours(w.by_x, w.by_y, o);
  EXPECT_EQ(two.ids, all.ids);
  EXPECT_EQ(two.sims, all.sims);
}

TEST(SimilarityTest, RefusesListsAboveTheMemoryLimitNamingTheSize) {
  const TwoWay w = rows_of(3, 2, {{0, 0, 1}, {0, 1, 2}, {1, 0, 2}, {1, 1, 2}, {2, 0, 5}});
  SimilarityOptions o;
  o.memory_limit = 16;  // two neighbour pairs of 8 bytes fit: 0-1 1-0 0-2 2-0 1-2 2-1 do not
  o.subject = "knn_basic: the user similarities";
  EXPECT_THAT([&] { compute_neighbours(w.by_x, w.by_y, o); },
              ThrowsMessage<Error>(HasSubstr("knn_basic: the user similarities: 6 similarities "
                                             "(3 rows) would take 0.0 MiB (48 bytes), above "
                                             "memory_limit=16")));
  o.memory_limit = 48;
  EXPECT_NO_THROW(compute_neighbours(w.by_x, w.by_y, o));
}

// Users A, B, C; items 1, 2, 3. A: 4, 2, -; B: 4, 2, 5; C: 1, -, 1. msd(A, B) = 1, msd(A, C) =
// 1 / (9 + 1) = 0.1. A's prediction for item 3 uses B (5) and C (1).
const std::vector<Triple> kSmall = {{1, 1, 4}, {1, 2, 2}, {2, 1, 4}, {2, 2, 2},
                                    {2, 3, 5}, {3, 1, 1}, {3, 3, 1}};

double knn_predict(const char* algorithm, std::vector<std::pair<std::string, std::string>> params,
                   const std::vector<Triple>& triples, int64_t user, int64_t item) {
  const Dataset d = dataset_of(triples);
  const auto model =
      fit(algorithm, parse_params(algorithm, params), d, every_rating(d), {0.5f, 5.0f}, 1);
  return model->estimate(model->users.find(user), model->items.find(item));
}

TEST(KnnTest, EachPredictorByHand) {
  const double mu = 19.0 / 7.0;
  EXPECT_NEAR(knn_predict("knn_basic", {}, kSmall, 1, 3), (5.0 + 0.1) / 1.1, 1e-6);
  EXPECT_NEAR(knn_predict("knn_basic", {{"k", "1"}}, kSmall, 1, 3), 5.0, 1e-6);
  // Fewer than min_k neighbours: knn_basic falls back to the global mean.
  EXPECT_NEAR(knn_predict("knn_basic", {{"k", "3"}, {"min_k", "3"}}, kSmall, 1, 3), mu, 1e-12);
  // Means: A 3, B 11/3, C 1.
  EXPECT_NEAR(knn_predict("knn_with_means", {}, kSmall, 1, 3), 3.0 + (5.0 - 11.0 / 3.0) / 1.1,
              1e-6);
  EXPECT_NEAR(knn_predict("knn_with_means", {{"k", "3"}, {"min_k", "3"}}, kSmall, 1, 3), 3.0,
              1e-12);
  // Z-scores: sigma A 1, B sqrt(14/9); C's is 0, replaced by that of all ratings (C's term is 0).
  EXPECT_NEAR(knn_predict("knn_with_zscore", {}, kSmall, 1, 3),
              3.0 + ((5.0 - 11.0 / 3.0) / std::sqrt(14.0 / 9.0)) / 1.1 * 1.0, 1e-6);
  // Unknown user or item: the global mean.
  EXPECT_NEAR(knn_predict("knn_basic", {}, kSmall, 99, 3), mu, 1e-12);
  EXPECT_NEAR(knn_predict("knn_with_zscore", {}, kSmall, 1, 99), mu, 1e-12);
}

TEST(KnnTest, BaselinePredictorByHand) {
  const Dataset d = dataset_of(kSmall);
  const auto model =
      fit("knn_baseline", default_params("knn_baseline"), d, every_rating(d), {0.5f, 5.0f}, 1);
  const auto& m = dynamic_cast<const KnnModel&>(*model);
  // The baselines are BaselineOnly's ALS ones.
  const std::vector<uint32_t> all = every_rating(d);
  const TrainingSet set = make_training_set(d, all);
  const Baselines b = compute_baselines(BaselineOptions::defaults(), set);
  EXPECT_EQ(m.user_bias, b.user_bias);
  EXPECT_EQ(m.item_bias, b.item_bias);
  const int64_t a = m.users.find(1), bb = m.users.find(2), c = m.users.find(3);
  const int64_t i3 = m.items.find(3);
  const double mu = m.global_mean;
  auto bsl = [&](int64_t u) { return mu + m.user_bias[u] + m.item_bias[i3]; };
  const double expected = bsl(a) + (1.0 * (5.0 - bsl(bb)) + 0.1 * (1.0 - bsl(c))) / 1.1;
  EXPECT_NEAR(m.estimate(a, i3), expected, 1e-6);
  // Unknown user: mu + b_i; unknown item: mu + b_u.
  EXPECT_EQ(m.estimate(-1, i3), mu + m.item_bias[i3]);
  EXPECT_EQ(m.estimate(a, -1), mu + m.user_bias[a]);
}

TEST(KnnTest, ItemBasedOnTransposedDataIsUserBased) {
  const Dataset d = reco::testing::random_dataset(25, 18, 0.4, 3);
  RawRatings transposed;
  for (size_t k = 0; k < d.size(); ++k) {
    transposed.push_back(d.items.raw(d.item[k]), d.users.raw(d.user[k]), d.rating[k]);
  }
  const Dataset t = Dataset::from_raw(transposed);
  for (const char* algorithm : {"knn_basic", "knn_with_means", "knn_with_zscore", "knn_baseline"}) {
    for (const char* sim : {"cosine", "msd", "pearson", "pearson_baseline"}) {
      const auto user_based =
          fit(algorithm, parse_params(algorithm, {{"similarity", sim}, {"k", "5"}}), d,
              every_rating(d), {0.5f, 5.0f}, 1);
      const auto item_based =
          fit(algorithm,
              parse_params(algorithm, {{"similarity", sim}, {"k", "5"}, {"user_based", "false"}}),
              t, every_rating(t), {0.5f, 5.0f}, 1);
      // The baselines (ALS: items first, other regularisations) are not symmetric in u and i.
      if (std::string(algorithm) == "knn_baseline" || std::string(sim) == "pearson_baseline")
        continue;
      for (uint32_t u = 0; u < user_based->n_users(); ++u) {
        for (uint32_t i = 0; i < user_based->n_items(); ++i) {
          const int64_t raw_u = user_based->users.raw(u), raw_i = user_based->items.raw(i);
          ASSERT_NEAR(
              user_based->estimate(u, i),
              item_based->estimate(item_based->users.find(raw_i), item_based->items.find(raw_u)),
              1e-9)
              << algorithm << " " << sim;
        }
      }
    }
  }
}

TEST(KnnTest, TiesGoToTheNeighbourEarlierInTrainingOrder) {
  // B and C agree with A exactly (msd 1) and rated item 3 with 5 and 1; k = 1 picks the one
  // whose rating of item 3 comes first in the training list.
  std::vector<Triple> base = {{1, 1, 4}, {2, 1, 4}, {3, 1, 4}};
  auto with = [&](std::vector<Triple> tail) {
    std::vector<Triple> all = base;
    all.insert(all.end(), tail.begin(), tail.end());
    return all;
  };
  EXPECT_NEAR(knn_predict("knn_basic", {{"k", "1"}}, with({{2, 3, 5}, {3, 3, 1}}), 1, 3), 5.0,
              1e-9);
  EXPECT_NEAR(knn_predict("knn_basic", {{"k", "1"}}, with({{3, 3, 1}, {2, 3, 5}}), 1, 3), 1.0,
              1e-9);
}

TEST(KnnTest, BlockScoresEqualEstimatesAndTheCapOnlyDropsNeighbours) {
  const Dataset d = reco::testing::random_dataset(30, 40, 0.3, 8);
  for (const char* algorithm : {"knn_basic", "knn_with_means", "knn_with_zscore", "knn_baseline"}) {
    for (const char* ub : {"true", "false"}) {
      for (const char* cap : {"0", "6"}) {
        const auto model = fit(algorithm,
                               parse_params(algorithm, {{"similarity", "pearson_baseline"},
                                                        {"user_based", ub},
                                                        {"k", "5"},
                                                        {"max_neighbors", cap}}),
                               d, every_rating(d), {0.5f, 5.0f}, 1);
        model->validate();
        std::vector<uint32_t> users(model->n_users());
        for (uint32_t u = 0; u < users.size(); ++u) users[u] = u;
        std::vector<float> out(users.size() * model->n_items());
        model->score_block(users, 0, model->n_items(), out.data(), model->n_items());
        for (uint32_t u = 0; u < users.size(); ++u) {
          for (uint32_t i = 0; i < model->n_items(); ++i) {
            ASSERT_EQ(out[u * model->n_items() + i], static_cast<float>(model->estimate(u, i)))
                << algorithm << " " << ub << " " << cap;
          }
        }
        const auto& m = dynamic_cast<const KnnModel&>(*model);
        for (uint32_t x = 0; x < m.n_x(); ++x) {
          if (std::string(cap) == "6") {
            EXPECT_LE(m.neighbours.offsets[x + 1] - m.neighbours.offsets[x], 6u);
          }
        }
      }
    }
  }
}

TEST(KnnTest, TheMirroredUpperTriangleIsTheFullComputation) {
  // Without a cap only x2 > x is computed and mirrored; a cap above every row's length computes
  // every row in full. Both give the same lists, bit for bit.
  const Dataset d = reco::testing::random_dataset(35, 50, 0.35, 12);
  for (const char* sim : {"cosine", "msd", "pearson", "pearson_baseline"}) {
    for (const char* ub : {"true", "false"}) {
      auto lists = [&](const char* cap) {
        const auto model =
            fit("knn_basic",
                parse_params("knn_basic",
                             {{"similarity", sim}, {"user_based", ub}, {"max_neighbors", cap}}),
                d, every_rating(d), {0.5f, 5.0f}, 1, {}, nullptr, 2);
        return dynamic_cast<const KnnModel&>(*model).neighbours;
      };
      const NeighbourLists mirrored = lists("0"), full = lists("1000");
      EXPECT_EQ(mirrored.offsets, full.offsets) << sim << ub;
      EXPECT_EQ(mirrored.ids, full.ids) << sim << ub;
      EXPECT_EQ(mirrored.sims, full.sims) << sim << ub;
      EXPECT_TRUE(full.symmetric);
    }
  }
}

TEST(KnnTest, SameModelOnOneThreadOrTwo) {
  const Dataset d = reco::testing::random_dataset(40, 60, 0.3, 5);
  const auto params =
      parse_params("knn_baseline", {{"similarity", "pearson_baseline"}, {"user_based", "false"}});
  const auto a = fit("knn_baseline", params, d, every_rating(d), {0.5f, 5.0f}, 1, {}, nullptr, 1);
  const auto b = fit("knn_baseline", params, d, every_rating(d), {0.5f, 5.0f}, 2, {}, nullptr, 2);
  const auto& ma = dynamic_cast<const KnnModel&>(*a);
  const auto& mb = dynamic_cast<const KnnModel&>(*b);
  EXPECT_EQ(ma.neighbours.ids, mb.neighbours.ids);
  EXPECT_EQ(ma.neighbours.sims, mb.neighbours.sims);
  EXPECT_EQ(ma.y_x, mb.y_x);
}

TEST(KnnTest, BadParametersAreRefusedClearly) {
  EXPECT_THAT(
      [] {
        parse_params("knn_basic", {{"similarity", "jaccard"}});
      },
      ThrowsMessage<Error>(
          HasSubstr("'jaccard' is not one of cosine, msd, pearson, pearson_baseline")));
  EXPECT_THAT(
      [] {
        parse_params("knn_basic", {{"n_factors", "10"}});
      },
      ThrowsMessage<Error>(HasSubstr("n_factors")));
  EXPECT_THAT(
      [] {
        parse_params("knn_basic", {{"k", "0"}});
      },
      ThrowsMessage<Error>(HasSubstr("k=0 is out of range")));
  EXPECT_THAT(
      [] {
        parse_params("knn_with_means", {{"shrinkage", "10"}});
      },
      ThrowsMessage<Error>(HasSubstr("shrinkage")));
  EXPECT_THAT(
      [] {
        parse_params("knn_basic", {{"reg_u", "10"}});
      },
      ThrowsMessage<Error>(HasSubstr("reg_u")));
  const Dataset d = dataset_of(kSmall);
  EXPECT_THAT(
      [&] {
        fit("knn_basic", parse_params("knn_basic", {{"k", "3"}, {"min_k", "4"}}), d,
            every_rating(d), {0.5f, 5.0f}, 1);
      },
      ThrowsMessage<Error>(HasSubstr("knn_basic: min_k 4 is above k 3")));
  EXPECT_THAT(
      [&] {
        fit("knn_with_zscore", parse_params("knn_with_zscore", {{"max_neighbors", "10"}}), d,
            every_rating(d), {0.5f, 5.0f}, 1);
      },
      ThrowsMessage<Error>(HasSubstr("max_neighbors 10 is below k 40")));
  EXPECT_THAT(
      [&] {
        fit("knn_basic", parse_params("knn_basic", {{"memory_limit", "8"}}), d, every_rating(d),
            {0.5f, 5.0f}, 1);
      },
      ThrowsMessage<Error>(HasSubstr("above memory_limit=8")));
  EXPECT_THAT(
      [&] {
        fit("slope_one", parse_params("slope_one", {{"memory_limit", "8"}}), d, every_rating(d),
            {0.5f, 5.0f}, 1);
      },
      ThrowsMessage<Error>(HasSubstr("slope_one: the deviations of 6 co-rated item pairs")));
}

TEST(SlopeOneTest, PredictionByHand) {
  // A: i1 5, i2 3; B: i1 3, i2 4, i3 2; C: i2 2, i3 5. dev(3, 1) = 2 - 3 = -1 (B);
  // dev(3, 2) = ((2 - 4) + (5 - 2)) / 2 = 0.5 (B, C). A's mean is 4: r^(A, 3) = 4 + (-1 + 0.5) / 2.
  const std::vector<Triple> t = {{1, 1, 5}, {1, 2, 3}, {2, 1, 3}, {2, 2, 4},
                                 {2, 3, 2}, {3, 2, 2}, {3, 3, 5}};
  const Dataset d = dataset_of(t);
  const auto model =
      fit("slope_one", default_params("slope_one"), d, every_rating(d), {0.5f, 5.0f}, 1);
  model->validate();
  const auto& m = dynamic_cast<const SlopeOneModel&>(*model);
  const int64_t a = m.users.find(1), c = m.users.find(3);
  const int64_t i1 = m.items.find(1), i3 = m.items.find(3);
  EXPECT_NEAR(m.estimate(a, i3), 3.75, 1e-9);
  // C rated i2, i3; i1 shares raters with both: dev(1, 2) = (2 + -1) / 2, dev(1, 3) = 1.
  EXPECT_NEAR(m.estimate(c, i1), 3.5 + (0.5 + 1.0) / 2, 1e-9);
  // A pair the user rated counts itself with deviation 0.
  EXPECT_NEAR(m.estimate(a, i1), 4.0 + (0.0 + 0.5) / 2, 1e-9);
  EXPECT_EQ(m.estimate(-1, i1), m.global_mean);
  EXPECT_EQ(m.estimate(a, -1), m.global_mean);
  // Blocked scores equal the estimates, on a larger set too.
  const Dataset r = reco::testing::random_dataset(30, 40, 0.3, 2);
  const auto big = fit("slope_one", default_params("slope_one"), r, every_rating(r), {0.5f, 5.0f},
                       1, {}, nullptr, 2);
  big->validate();
  std::vector<uint32_t> users(big->n_users());
  for (uint32_t u = 0; u < users.size(); ++u) users[u] = u;
  std::vector<float> out(users.size() * big->n_items());
  big->score_block(users, 0, big->n_items(), out.data(), big->n_items());
  for (uint32_t u = 0; u < users.size(); ++u)
    for (uint32_t i = 0; i < big->n_items(); ++i)
      ASSERT_EQ(out[u * big->n_items() + i], static_cast<float>(big->estimate(u, i)));
}

}  // namespace
}  // namespace reco::algorithms
