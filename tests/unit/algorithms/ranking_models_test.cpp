// The ranking models and explicit ALS (ials.h, bpr.h, ease.h, als.h): each formula on a tiny
// case worked by hand, determinism (seed, thread count), the scores left unclipped, bad inputs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "algorithms/als.h"
#include "algorithms/bpr.h"
#include "algorithms/ease.h"
#include "algorithms/ials.h"
#include "algorithms/interactions.h"
#include "algorithms/train.h"
#include "core/error.h"
#include "core/random.h"
#include "test_data.h"

namespace reco::algorithms {
namespace {

using reco::testing::dataset_of;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

std::unique_ptr<Model> fit_all(const std::string& algorithm, const Dataset& d,
                               const std::vector<std::pair<std::string, std::string>>& params,
                               uint64_t seed = 1, int threads = 1) {
  return fit(algorithm, parse_params(algorithm, params), d, all_rating_indices(d), {0.5f, 5.0f},
             seed, {}, nullptr, threads);
}

TEST(Interactions, KeepRatingsAtTheThresholdInBothOrientations) {
  // users 1, 2; items 10, 20, 30 (dense in order of appearance).
  const Dataset d = dataset_of({{1, 20, 4.0f}, {1, 10, 2.0f}, {2, 10, 5.0f}, {2, 30, 3.5f}});
  const TrainingSet set = make_training_set(d, all_rating_indices(d));
  const Interactions x = make_interactions(set, 3.5);
  EXPECT_EQ(x.size(), 3u);
  EXPECT_EQ(x.user_offsets, (std::vector<uint64_t>{0, 1, 3}));
  EXPECT_EQ(x.user_item, (std::vector<uint32_t>{0, 1, 2}));  // items 20 | 10, 30
  EXPECT_EQ(x.user_value, (std::vector<float>{4.0f, 5.0f, 3.5f}));
  EXPECT_EQ(x.item_offsets, (std::vector<uint64_t>{0, 1, 2, 3}));
  EXPECT_EQ(x.item_user, (std::vector<uint32_t>{0, 1, 1}));
  EXPECT_EQ(all_interactions(set).size(), 4u);
}

// --- EASE ---------------------------------------------------------------------------------------

TEST(Ease, TwoItemsByHand) {
  // X = [[1, 1], [1, 0]] (user 1 has items 10 and 20, user 2 item 10), lambda = 1:
  // G = [[3, 1], [1, 2]], P = G^-1 = [[0.4, -0.2], [-0.2, 0.6]],
  // B_01 = -P_01 / P_11 = 1/3, B_10 = -P_10 / P_00 = 1/2, B_00 = B_11 = 0.
  const Dataset d = dataset_of({{1, 10, 4.0f}, {1, 20, 3.0f}, {2, 10, 5.0f}});
  const auto model = fit_all("ease", d, {{"lambda", "1"}});
  const auto& m = dynamic_cast<const EaseModel&>(*model);
  ASSERT_EQ(m.weights.size(), 4u);
  EXPECT_FLOAT_EQ(m.weights[0], 0.0f);
  EXPECT_FLOAT_EQ(m.weights[1], 1.0f / 3.0f);
  EXPECT_FLOAT_EQ(m.weights[2], 0.5f);
  EXPECT_FLOAT_EQ(m.weights[3], 0.0f);
  // User 2 (positive: item 10) scores item 20 with B_01; user 1 scores item 10 with B_10.
  EXPECT_FLOAT_EQ(static_cast<float>(m.estimate(1, 1)), 1.0f / 3.0f);
  EXPECT_FLOAT_EQ(static_cast<float>(m.estimate(0, 0)), 0.5f);
  EXPECT_EQ(m.estimate(-1, 0), 2.0);  // unknown user: the item's positives
  EXPECT_EQ(m.estimate(0, -1), 0.0);
  // A score is not a rating: never clipped to [0.5, 5].
  EXPECT_TRUE(m.ranking_scores);
  EXPECT_FLOAT_EQ(static_cast<float>(m.predict(2, 20)), 1.0f / 3.0f);
  // min_rating 4.5: only user 2's 5.0 is a positive, G = [[1 + 1, 0], [0, 0 + 1]], B = 0.
  const auto strict = fit_all("ease", d, {{"lambda", "1"}, {"min_rating", "4.5"}});
  const auto& s = dynamic_cast<const EaseModel&>(*strict);
  EXPECT_EQ(s.positive_items, (std::vector<uint32_t>{0}));
  EXPECT_EQ(s.weights, (std::vector<float>{0, 0, 0, 0}));
}

TEST(Ease, BlockedInverseIsTheInverseOnAnyThreadCount) {
  // 150 x 150 (two full pivot blocks and a partial one), random SPD: A = M M^T + n I.
  const size_t n = 150;
  Rng rng(3);
  std::vector<double> m(n * n), a(n * n, 0.0);
  for (auto& x : m) x = rng.uniform() - 0.5;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j) {
      for (size_t k = 0; k < n; ++k) a[i * n + j] += m[i * n + k] * m[j * n + k];
      if (i == j) a[i * n + j] += 1.0;
    }
  const std::vector<double> p1 = invert_spd(a, n, 1);
  const std::vector<double> p2 = invert_spd(a, n, 2);
  EXPECT_EQ(p1, p2);
  setenv("RECO_SIMD", "scalar", 1);  // the register-blocked AVX-512 update off: the same bits
  const std::vector<double> p3 = invert_spd(a, n, 2);
  unsetenv("RECO_SIMD");
  EXPECT_EQ(p1, p3);
  double worst = 0.0;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      double s = 0.0;
      for (size_t k = 0; k < n; ++k) s += a[i * n + k] * p1[k * n + j];
      worst = std::max(worst, std::abs(s - (i == j ? 1.0 : 0.0)));
    }
  }
  EXPECT_LT(worst, 1e-9);
}

TEST(Ease, RefusesItemCountsAboveTheMemoryCapBeforeAllocating) {
  const Dataset d = reco::testing::random_dataset(30, 40, 0.3, 2);
  // 40 items: 12 * 40^2 = 19,200 bytes.
  EXPECT_THAT(
      [&] {
        fit_all("ease", d, {{"max_memory", "19199"}});
      },
      ThrowsMessage<Error>(HasSubstr("40 items need a 40 x 40 item-item matrix")));
  EXPECT_NO_THROW(fit_all("ease", d, {{"max_memory", "19200"}}));
  EXPECT_EQ(ease_memory_bytes(20000), 4'800'000'000u);
  EXPECT_THAT(
      [&] {
        parse_params("ease", {{"lambda", "0"}});
      },
      ThrowsMessage<Error>(HasSubstr("lambda")));
}

TEST(Ease, SameModelOnOneOrTwoThreads) {
  const Dataset d = reco::testing::random_dataset(60, 90, 0.2, 4);
  const auto a = fit_all("ease", d, {{"lambda", "5"}}, 1, 1);
  const auto b = fit_all("ease", d, {{"lambda", "5"}}, 1, 2);
  EXPECT_EQ(dynamic_cast<const EaseModel&>(*a).weights, dynamic_cast<const EaseModel&>(*b).weights);
}

// --- iALS ---------------------------------------------------------------------------------------

TEST(Ials, OneFactorUpdatesAreTheClosedForm) {
  // One factor: conjugate gradient solves each 1 x 1 system in its first step, so after the
  // last item update y_i = sum over u with i of c x_u / (sum over all u of x_u^2 + reg +
  // sum over u with i of (c - 1) x_u^2), c = 1 + alpha (binary).
  const Dataset d = dataset_of({{1, 10, 4.0f}, {1, 20, 3.0f}, {2, 10, 5.0f}, {3, 30, 1.0f}});
  const double reg = 0.1, alpha = 2.0, c = 1.0 + alpha;
  const auto model = fit_all("ials", d,
                             {{"factors", "1"},
                              {"regularization", "0.1"},
                              {"alpha", "2"},
                              {"iterations", "3"},
                              {"cg_steps", "1"}});
  const auto& m = as_factor_model(*model);
  const std::vector<std::vector<uint32_t>> users_of_item = {{0, 1}, {0}, {2}};
  double all = 0.0;
  for (const float x : m.user_factors) all += double{x} * x;
  for (uint32_t i = 0; i < 3; ++i) {
    double num = 0.0, den = all + reg;
    for (const uint32_t u : users_of_item[i]) {
      num += c * m.user_factors[u];
      den += (c - 1.0) * m.user_factors[u] * m.user_factors[u];
    }
    EXPECT_NEAR(m.item_factors[i], num / den, 1e-5) << i;
  }
  EXPECT_FALSE(m.biased);
  EXPECT_EQ(m.estimate(-1, 0), 0.0);
  EXPECT_TRUE(m.ranking_scores);
  // confidence=rating: c = 1 + alpha r.
  const auto rated = fit_all("ials", d,
                             {{"factors", "1"},
                              {"regularization", "0.1"},
                              {"alpha", "2"},
                              {"iterations", "3"},
                              {"cg_steps", "1"},
                              {"confidence", "rating"}});
  const auto& r = as_factor_model(*rated);
  all = 0.0;
  for (const float x : r.user_factors) all += double{x} * x;
  const double c0 = 1.0 + alpha * 4.0, c1 = 1.0 + alpha * 5.0;  // item 10: users 1, 2
  const double num = c0 * r.user_factors[0] + c1 * r.user_factors[1];
  const double den = all + reg + (c0 - 1.0) * r.user_factors[0] * r.user_factors[0] +
                     (c1 - 1.0) * r.user_factors[1] * r.user_factors[1];
  EXPECT_NEAR(r.item_factors[0], num / den, 1e-5);
}

TEST(Ials, ExactUserSolveSatisfiesTheNormalEquations) {
  const Dataset d = reco::testing::random_dataset(40, 30, 0.3, 7);
  const auto model = fit_all("ials", d, {{"factors", "4"}, {"iterations", "3"}});
  const auto& m = as_factor_model(*model);
  IalsOptions o;
  o.regularization = 0.5;
  o.alpha = 3.0;
  const std::vector<uint32_t> items = {1, 4, 9};
  const std::vector<double> ratings = {4.0, 2.5, 5.0};
  const std::vector<double> x = ials_solve_user(o, m, items, ratings);
  // (Y^T Y + reg I + sum (c - 1) y y^T) x - sum c y = 0
  const size_t k = 4;
  for (size_t r = 0; r < k; ++r) {
    double g = o.regularization * x[r];
    for (uint32_t i = 0; i < m.n_items(); ++i) {
      double dot = 0.0;
      for (size_t f = 0; f < k; ++f) dot += double{m.item_factors[i * k + f]} * x[f];
      const bool positive = std::find(items.begin(), items.end(), i) != items.end();
      const double c = positive ? 1.0 + o.alpha : 1.0;
      g += c * (dot - (positive ? 1.0 : 0.0)) * m.item_factors[i * k + r];
    }
    EXPECT_NEAR(g, 0.0, 1e-9) << r;
  }
}

TEST(Ials, SeedDecidesAndThreadsDoNot) {
  const Dataset d = reco::testing::random_dataset(80, 50, 0.2, 8);
  const std::vector<std::pair<std::string, std::string>> p = {{"factors", "8"},
                                                              {"iterations", "4"}};
  const auto a = fit_all("ials", d, p, 5, 1), b = fit_all("ials", d, p, 5, 2),
             c = fit_all("ials", d, p, 6, 1);
  EXPECT_EQ(as_factor_model(*a).user_factors, as_factor_model(*b).user_factors);
  EXPECT_EQ(as_factor_model(*a).item_factors, as_factor_model(*b).item_factors);
  EXPECT_NE(as_factor_model(*a).item_factors, as_factor_model(*c).item_factors);
  EXPECT_THAT(
      [&] {
        parse_params("ials", {{"n_factors", "8"}});
      },
      ThrowsMessage<Error>(HasSubstr("factors")));
  EXPECT_THAT(
      [&] {
        parse_params("ials", {{"confidence", "linear"}});
      },
      ThrowsMessage<Error>(HasSubstr("not one of binary, rating")));
}

// --- BPR ----------------------------------------------------------------------------------------

TEST(Bpr, OneStepByHand) {
  // One user with item 10 positive, item 20 not: the only triple is (u, 10, 20). Factors start
  // as documented: uniform(-0.5, 0.5) / factors from the seed's init stream, users then items.
  const Dataset d = dataset_of({{1, 10, 4.0f}, {2, 20, 3.0f}});
  const double lr = 0.1, reg = 0.01;
  const auto model = fit_all("bpr", d,
                             {{"factors", "1"},
                              {"learning_rate", "0.1"},
                              {"regularization", "0.01"},
                              {"iterations", "1"},
                              {"min_rating", "3.5"}},
                             9);
  // Positives: (user 1, item 10) only; one sampled step.
  Rng rng(9, rng_stream::kFactorInit);
  const auto draw = [&] { return static_cast<float>(rng.uniform() - 0.5); };
  const float p = draw(), p2 = draw(), qi = draw(), qj = draw();
  (void)p2;
  const float x = 0.0f - 0.0f + p * (qi - qj);
  const double z = 1.0 / (1.0 + std::exp(x));
  const auto& m = as_factor_model(*model);
  EXPECT_NEAR(m.user_factors[0], p + lr * (z * (qi - qj) - reg * p), 1e-6);
  EXPECT_NEAR(m.item_factors[0], qi + lr * (z * p - reg * qi), 1e-6);
  EXPECT_NEAR(m.item_factors[1], qj + lr * (-z * p - reg * qj), 1e-6);
  EXPECT_NEAR(m.item_bias[0], lr * z, 1e-6);
  EXPECT_NEAR(m.item_bias[1], -lr * z, 1e-6);
  EXPECT_EQ(m.user_factors[1], p2);  // user 2 has no positive: never stepped
  // Score = b_i + p_u . q_i (global mean and user bias 0); unknown user: b_i.
  EXPECT_FLOAT_EQ(static_cast<float>(m.estimate(-1, 0)), m.item_bias[0]);
  EXPECT_TRUE(m.ranking_scores);
}

TEST(Bpr, LearnsToRankPositivesFirstAndTheSeedDecides) {
  const Dataset d = reco::testing::random_dataset(60, 40, 0.25, 11);
  const std::vector<std::pair<std::string, std::string>> p = {
      {"factors", "8"}, {"iterations", "30"}, {"learning_rate", "0.05"}};
  const auto a = fit_all("bpr", d, p, 3), b = fit_all("bpr", d, p, 3), c = fit_all("bpr", d, p, 4);
  EXPECT_EQ(as_factor_model(*a).item_factors, as_factor_model(*b).item_factors);
  EXPECT_NE(as_factor_model(*a).item_factors, as_factor_model(*c).item_factors);
  // AUC on the training data: a rated item above an unrated one for most pairs.
  const Model& m = *a;
  uint64_t right = 0, pairs = 0;
  for (uint32_t u = 0; u < m.n_users(); ++u) {
    const auto rated = m.rated_by(u);
    for (uint32_t i : rated) {
      for (uint32_t j = 0; j < m.n_items(); ++j) {
        if (std::binary_search(rated.begin(), rated.end(), j)) continue;
        ++pairs;
        right += m.estimate(u, i) > m.estimate(u, j);
      }
    }
  }
  EXPECT_GT(static_cast<double>(right) / static_cast<double>(pairs), 0.8);
  EXPECT_THAT(
      [&] {
        parse_params("bpr", {{"learning_rate", "0"}});
      },
      ThrowsMessage<Error>(HasSubstr("learning_rate")));
  // A blend fits its weights to ratings: ranking models cannot be its bases.
  EXPECT_THAT(
      [&] {
        fit_all("blend", d, {{"algorithms", "svd,bpr"}});
      },
      ThrowsMessage<Error>(HasSubstr("bpr is a ranking model")));
}

// --- explicit ALS -------------------------------------------------------------------------------

TEST(Als, WeightedLambdaUpdatesByHand) {
  // rank 1: after the last item solve, y_i = sum over u of r_ui x_u / (sum x_u^2 + reg n_i).
  const Dataset d = dataset_of({{1, 10, 4.0f}, {1, 20, 3.0f}, {2, 10, 5.0f}, {3, 20, 1.0f}});
  const double reg = 0.3;
  const auto model = fit_all("als", d, {{"rank", "1"}, {"max_iter", "4"}, {"reg_param", "0.3"}});
  const auto& m = as_factor_model(*model);
  const auto& x = m.user_factors;
  // item 10: users 1 (4), 2 (5); item 20: users 1 (3), 3 (1).
  EXPECT_NEAR(m.item_factors[0], (4.0 * x[0] + 5.0 * x[1]) / (x[0] * x[0] + x[1] * x[1] + reg * 2),
              1e-5);
  EXPECT_NEAR(m.item_factors[1], (3.0 * x[0] + 1.0 * x[2]) / (x[0] * x[0] + x[2] * x[2] + reg * 2),
              1e-5);
  EXPECT_FALSE(m.ranking_scores);  // a rating model: clipped, RMSE applies
  EXPECT_EQ(m.predict(3, 10), std::clamp(m.estimate(2, 0), 0.5, 5.0));
  EXPECT_EQ(m.estimate(-1, 0), m.global_mean);
  // The fold-in solve is the same least squares.
  const std::vector<double> solved = als_solve_user(reg, m, {0, 1}, {4.0, 3.0});
  const auto& y = m.item_factors;
  EXPECT_NEAR(solved[0], (4.0 * y[0] + 3.0 * y[1]) / (y[0] * y[0] + y[1] * y[1] + reg * 2), 1e-6);
}

TEST(Als, FitsRatingsSeedDecidesThreadsDoNot) {
  const Dataset d = reco::testing::random_dataset(80, 50, 0.3, 12);
  const std::vector<std::pair<std::string, std::string>> p = {{"rank", "5"}};
  const auto a = fit_all("als", d, p, 5, 1), b = fit_all("als", d, p, 5, 2),
             c = fit_all("als", d, p, 6, 1);
  EXPECT_EQ(as_factor_model(*a).user_factors, as_factor_model(*b).user_factors);
  EXPECT_NE(as_factor_model(*a).user_factors, as_factor_model(*c).user_factors);
  double sq = 0.0;
  for (uint32_t k = 0; k < d.size(); ++k) {
    const double e = d.rating[k] - a->estimate(a->users.find(d.users.raw(d.user[k])),
                                               a->items.find(d.items.raw(d.item[k])));
    sq += e * e;
  }
  EXPECT_LT(std::sqrt(sq / d.size()), 0.6);  // fits the training ratings
  // A user with one rating and rank 3 without regularisation: a singular system.
  const Dataset tiny = dataset_of({{1, 10, 4.0f}, {1, 20, 3.0f}, {1, 30, 2.0f}, {2, 10, 5.0f}});
  EXPECT_THAT(
      [&] {
        fit_all("als", tiny, {{"rank", "3"}, {"reg_param", "0"}});
      },
      ThrowsMessage<Error>(HasSubstr("raise reg_param")));
}

}  // namespace
}  // namespace reco::algorithms
