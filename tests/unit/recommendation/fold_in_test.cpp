// Fold-in (fold_in.h): the solved user is the exact minimiser of the model's objective for
// that user; ignored items, fallback, exclusions and the JSON forms of the ratings.
#include "recommendation/fold_in.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>

#include "../algorithms/test_data.h"
#include "algorithms/als.h"
#include "algorithms/baseline.h"
#include "algorithms/ease.h"
#include "algorithms/factor_model.h"
#include "algorithms/ials.h"
#include "algorithms/knn.h"
#include "algorithms/train.h"
#include "core/error.h"
#include "core/random.h"

namespace reco::recommendation {
namespace {

using ::testing::HasSubstr;

algorithms::FactorModel small_svd(bool biased) {
  const Dataset d = reco::testing::random_dataset(40, 30, 0.4, 5);
  const auto params = algorithms::parse_params(
      "svd", {{"n_factors", "3"}, {"n_epochs", "10"}, {"biased", biased ? "true" : "false"}});
  auto model =
      algorithms::fit("svd", params, d, algorithms::all_rating_indices(d), {0.5f, 5.0f}, 1);
  return algorithms::as_factor_model(*model);
}

// The gradient of sum (r - est)^2 + reg_b b^2 + reg_p |p|^2 at the solution: zero.
void expect_stationary(const algorithms::FactorModel& m, const FoldInRegularization& reg,
                       const std::vector<std::pair<int64_t, double>>& ratings, double b,
                       const std::vector<double>& p) {
  double gb = reg.bias * b;
  std::vector<double> gp(p.size());
  for (size_t f = 0; f < p.size(); ++f) gp[f] = reg.factors * p[f];
  for (const auto& [raw, r] : ratings) {
    const int64_t i = m.items.find(raw);
    if (i < 0) continue;
    double est = m.biased ? m.global_mean + m.item_bias[i] + b : 0.0;
    for (size_t f = 0; f < p.size(); ++f) est += m.item_factors[i * m.n_factors + f] * p[f];
    const double e = est - r;
    gb += e;
    for (size_t f = 0; f < p.size(); ++f) gp[f] += e * m.item_factors[i * m.n_factors + f];
  }
  if (m.biased) {
    EXPECT_NEAR(gb, 0.0, 1e-9);
  }
  for (const double g : gp) EXPECT_NEAR(g, 0.0, 1e-9);
}

TEST(FoldIn, SolvesTheUsersRidgeRegressionExactly) {
  for (const bool biased : {true, false}) {
    SCOPED_TRACE(biased);
    const auto m = small_svd(biased);
    const FoldInRegularization reg{0.02, 0.05};
    const std::vector<std::pair<int64_t, double>> ratings = {
        {m.items.raw(0), 4.5}, {m.items.raw(3), 2.0}, {m.items.raw(7), 5.0}, {123456, 3.0}};
    const FoldInResult r = fold_in(m, reg, ratings, 5);
    EXPECT_EQ(r.used, 3u);
    EXPECT_EQ(r.ignored, 1u);
    EXPECT_FALSE(r.fallback);
    ASSERT_EQ(r.top.size(), 5u);
    for (const auto& t : r.top) EXPECT_TRUE(t.item != 0 && t.item != 3 && t.item != 7);
    ASSERT_EQ(r.user_factors.size(), m.n_factors);
    if (!biased) {
      EXPECT_EQ(r.user_bias, 0.0);
    }
    expect_stationary(m, reg, ratings, r.user_bias, r.user_factors);
    // The scores are the folded user's estimates.
    const uint32_t i = r.top[0].item;
    double est = biased ? m.global_mean + m.item_bias[i] + r.user_bias : 0.0;
    for (size_t f = 0; f < m.n_factors; ++f)
      est += m.item_factors[size_t{i} * m.n_factors + f] * r.user_factors[f];
    EXPECT_NEAR(r.top[0].score, est, 1e-5);
  }
}

TEST(FoldIn, BaselineIsItsAlsUserStep) {
  const Dataset d = reco::testing::random_dataset(30, 20, 0.5, 9);
  auto model = algorithms::fit("baseline", algorithms::default_params("baseline"), d,
                               algorithms::all_rating_indices(d), {0.5f, 5.0f}, 1);
  const auto& m = algorithms::as_factor_model(*model);
  const auto reg = FoldInRegularization::from_hyperparameters("baseline", {{"reg_u", 15.0}});
  EXPECT_EQ(reg.bias, 15.0);
  const std::vector<std::pair<int64_t, double>> ratings = {{m.items.raw(1), 5.0},
                                                           {m.items.raw(2), 1.0}};
  const FoldInResult r = fold_in(m, reg, ratings, 3);
  const double expected =
      ((5.0 - m.global_mean - m.item_bias[1]) + (1.0 - m.global_mean - m.item_bias[2])) /
      (15.0 + 2.0);
  EXPECT_NEAR(r.user_bias, expected, 1e-12);
  expect_stationary(m, reg, ratings, r.user_bias, {});
}

// A training user's own ratings, in training order, folded into an item-based knn model or a
// slope one model, give that user's training-time estimates (knn_baseline: the ALS user step is
// the last step of the model's own ALS); a user-based knn model refuses.
TEST(FoldIn, NeighbourhoodModelsScoreFromTheRatingsAsForATrainingUser) {
  const Dataset d = reco::testing::random_dataset(30, 25, 0.4, 4);
  const std::vector<uint32_t> all = algorithms::all_rating_indices(d);
  auto check = [&](const char* algorithm, std::vector<std::pair<std::string, std::string>> p) {
    const auto model =
        algorithms::fit(algorithm, algorithms::parse_params(algorithm, p), d, all, {0.5f, 5.0f}, 1);
    const auto reg =
        FoldInRegularization::from_hyperparameters(algorithm, nlohmann::json::object());
    for (const uint32_t u : {0u, 7u}) {
      const int64_t raw_user = model->users.raw(u);
      std::vector<std::pair<int64_t, double>> ratings;
      for (const uint32_t k : all) {
        if (d.users.raw(d.user[k]) == raw_user)
          ratings.emplace_back(d.items.raw(d.item[k]), d.rating[k]);
      }
      const FoldInResult r = fold_in(*model, reg, ratings, 5);
      EXPECT_FALSE(r.fallback);
      const auto known = top_n_for_user(*model, raw_user, 5);
      ASSERT_EQ(r.top.size(), known.size()) << algorithm;
      for (size_t t = 0; t < known.size(); ++t) {
        EXPECT_EQ(r.top[t].item, known[t].item) << algorithm;
        EXPECT_FLOAT_EQ(r.top[t].score, known[t].score) << algorithm;
      }
    }
  };
  for (const char* algorithm : {"knn_basic", "knn_with_means", "knn_with_zscore", "knn_baseline"}) {
    check(algorithm, {{"user_based", "false"}, {"similarity", "pearson_baseline"}, {"k", "4"}});
  }
  check("slope_one", {});
  const auto user_based = algorithms::fit("knn_basic", algorithms::default_params("knn_basic"), d,
                                          all, {0.5f, 5.0f}, 1);
  EXPECT_THAT(
      [&] {
        fold_in(*user_based, {}, {{user_based->items.raw(0), 4.0}}, 3);
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("not available for user-based knn_basic")));
}

TEST(FoldIn, NoKnownItemFallsBackToTheUnknownUser) {
  const auto m = small_svd(true);
  const FoldInResult r = fold_in(m, {0.02, 0.02}, {{999999, 4.0}}, 4);
  EXPECT_TRUE(r.fallback);
  EXPECT_EQ(r.ignored, 1u);
  const auto unknown = top_n_for_user(m, -424242, 4);
  ASSERT_EQ(r.top.size(), unknown.size());
  for (size_t k = 0; k < r.top.size(); ++k) EXPECT_EQ(r.top[k].item, unknown[k].item);
  const auto j = fold_in_json(m, r);
  EXPECT_THAT(j["note"].get<std::string>(), HasSubstr("none of the 1 rated items is known"));
  EXPECT_EQ(j["recommendations"].size(), 4u);
  EXPECT_TRUE(fold_in_json(m, fold_in(m, {0.02, 0.02}, {}, 2))["fallback"].get<bool>());
}

TEST(FoldIn, RefusesDuplicatesNonNumbersAndOtherAlgorithms) {
  const auto m = small_svd(true);
  const int64_t a = m.items.raw(0);
  EXPECT_THAT(
      [&] {
        fold_in(m, {}, {{a, 4.0}, {a, 3.0}}, 3);
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("rated twice")));
  EXPECT_THAT(
      [&] {
        fold_in(m, {}, {{a, std::nan("")}}, 3);
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("not a number")));
  EXPECT_THAT([] { FoldInRegularization::from_hyperparameters("svdpp", {}); },
              ::testing::ThrowsMessage<Error>(HasSubstr("not available for svdpp")));
}

TEST(FoldIn, ReadsTheThreeJsonForms) {
  using nlohmann::json;
  const auto pairs = ratings_from_json(json::parse(R"([[10, 4.5], ["11", 3], [12.0, 1]])"));
  ASSERT_EQ(pairs.size(), 3u);
  EXPECT_EQ(pairs[1], (std::pair<int64_t, double>{11, 3.0}));
  EXPECT_EQ(pairs[2].first, 12);
  EXPECT_EQ(ratings_from_json(json::parse(R"({"10": 4.5, "7": 2})")).size(), 2u);
  EXPECT_EQ(ratings_from_json(json::parse(R"([{"item": 5, "rating": 2.5}])"))[0].second, 2.5);
  EXPECT_TRUE(ratings_from_json(json::array()).empty());
  for (const char* bad : {R"([[1.5, 4]])", R"([["x", 4]])", R"([[1, "4"]])", R"([[1]])", R"(5)",
                          R"({"a": 1})", R"([{"item": 1}])"}) {
    EXPECT_THROW(ratings_from_json(json::parse(bad)), Error) << bad;
  }
  EXPECT_THAT([] { ratings_from_json(json::parse(R"([[1, 2], [3, "x"]])")); },
              ::testing::ThrowsMessage<Error>(HasSubstr("ratings[1]: the rating is not a number")));
}

TEST(FoldIn, RankingModelsAndAlsSolveTheirOwnUserStep) {
  using nlohmann::json;
  const Dataset d = reco::testing::random_dataset(40, 30, 0.4, 6);
  const auto all = algorithms::all_rating_indices(d);
  // ials: the exact solution of its normal equations over the ratings >= min_rating.
  const json hp = {{"regularization", 0.2}, {"alpha", 4.0}, {"min_rating", 3.0}};
  const auto ials = algorithms::fit(
      "ials",
      algorithms::parse_params(
          "ials",
          {{"factors", "4"}, {"regularization", "0.2"}, {"alpha", "4"}, {"min_rating", "3"}}),
      d, all, {0.5f, 5.0f}, 1);
  const auto reg = FoldInRegularization::from_hyperparameters("ials", hp);
  const int64_t a = ials->items.raw(2), b = ials->items.raw(5), c = ials->items.raw(8);
  const auto result = fold_in(*ials, reg, {{a, 4.0}, {b, 2.0}, {c, 5.0}, {999999, 4.0}}, 5);
  algorithms::IalsOptions o;
  o.regularization = 0.2;
  o.alpha = 4.0;
  const auto& f = algorithms::as_factor_model(*ials);
  const std::vector<double> x = algorithms::ials_solve_user(o, f, {2, 8}, {4.0, 5.0});
  ASSERT_EQ(result.user_factors.size(), 4u);
  for (size_t k = 0; k < 4; ++k) EXPECT_NEAR(result.user_factors[k], x[k], 1e-12);
  EXPECT_EQ(result.used, 3u);
  EXPECT_EQ(result.ignored, 1u);
  for (const auto& s : result.top) EXPECT_TRUE(s.item != 2 && s.item != 5 && s.item != 8);
  // Only ratings below min_rating: no positive, the unknown user's ranking, said in the note.
  const auto none = fold_in(*ials, reg, {{b, 2.0}}, 5);
  EXPECT_TRUE(none.fallback);
  EXPECT_THAT(fold_in_json(*ials, none)["note"].get<std::string>(), HasSubstr("is a positive"));

  // ease: a training user's own positives give that user's scores, so the same top list.
  const auto ease = algorithms::fit("ease", algorithms::parse_params("ease", {{"lambda", "20"}}), d,
                                    all, {0.5f, 5.0f}, 1);
  const auto& e = dynamic_cast<const algorithms::EaseModel&>(*ease);
  std::vector<std::pair<int64_t, double>> own;
  for (const uint32_t i : e.rated_by(3)) own.emplace_back(e.items.raw(i), 4.0);
  const auto folded =
      fold_in(*ease, FoldInRegularization::from_hyperparameters("ease", {}), own, 6);
  std::vector<float> scratch;
  const auto direct = TopN(*ease).for_model_users(3, 1, 6, scratch)[0];
  ASSERT_EQ(folded.top.size(), direct.size());
  for (size_t r = 0; r < direct.size(); ++r) {
    EXPECT_EQ(folded.top[r].item, direct[r].item);
    EXPECT_EQ(folded.top[r].score, direct[r].score);
  }

  // als: weighted-lambda least squares with reg_param from the hyperparameters.
  const auto als = algorithms::fit("als", algorithms::parse_params("als", {{"rank", "3"}}), d, all,
                                   {0.5f, 5.0f}, 1);
  const auto als_result =
      fold_in(*als, FoldInRegularization::from_hyperparameters("als", json{{"reg_param", 0.5}}),
              {{als->items.raw(1), 4.0}, {als->items.raw(4), 2.0}}, 3);
  const auto expected =
      algorithms::als_solve_user(0.5, algorithms::as_factor_model(*als), {1, 4}, {4.0, 2.0});
  for (size_t k = 0; k < 3; ++k) EXPECT_NEAR(als_result.user_factors[k], expected[k], 1e-6);

  EXPECT_THAT([] { FoldInRegularization::from_hyperparameters("bpr", {}); },
              ::testing::ThrowsMessage<Error>(HasSubstr("not available for bpr")));
}

}  // namespace
}  // namespace reco::recommendation
