// Blend (linear stacking): the parameter list, the folds, the ridge weights on hand-computed
// cases, the model as the weighted sum of standalone fits, scoring, determinism and bad input.
#include "algorithms/blend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "algorithms/train.h"
#include "core/error.h"
#include "test_data.h"

namespace reco::algorithms {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

TEST(BlendTest, ParsesBasesWithTheirParameters) {
  const auto bases =
      parse_blend_bases(" svd(n_factors=7; reg_all=0.05) , baseline,svdpp(n_epochs=3)");
  ASSERT_EQ(bases.size(), 3u);
  EXPECT_EQ(bases[0].algorithm(), "svd");
  EXPECT_EQ(bases[0].get_int("n_factors"), 7);
  EXPECT_EQ(bases[0].get_float("reg_all"), 0.05);
  EXPECT_EQ(bases[1].algorithm(), "baseline");
  EXPECT_EQ(bases[2].get_int("n_epochs"), 3);
  EXPECT_EQ(parse_blend_bases("svd(n_factors=2 n_epochs=3),baseline")[0].get_int("n_epochs"), 3);
}

TEST(BlendTest, RefusesBadBaseListsNamingTheProblem) {
  const std::pair<const char*, const char*> cases[] = {
      {"svd", "1 base algorithms in 'svd'; a blend takes 2 to 8"},
      {"svd,svd,svd,svd,svd,svd,svd,svd,svd", "9 base algorithms"},
      {"svd,nope", "'nope'"},
      {"svd,blend", "cannot contain another blend"},
      {"svd(n_factors=2,baseline", "unbalanced '('"},
      {"svd),baseline", "unbalanced ')'"},
      {"svd(n_factors),baseline", "'n_factors' in the parameters of svd is not NAME=VALUE"},
      {"svd(n_trees=2),baseline", "n_trees"},
      {"svd(n_factors=2)x,baseline", "opens a parameter list it does not close"},
  };
  for (const auto& [text, expected] : cases) {
    try {
      (void)parse_blend_bases(text);
      ADD_FAILURE() << text;
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr(expected)) << text;
      EXPECT_THAT(e.what(), HasSubstr("blend")) << text;
    }
  }
}

TEST(BlendTest, FoldsAreSeededSlicesOfEqualSize) {
  const auto folds = blend_fold_of(103, 5, 9);
  std::vector<int> sizes(5, 0);
  for (const uint8_t f : folds) ++sizes.at(f);
  for (const int s : sizes) EXPECT_TRUE(s == 20 || s == 21) << s;
  EXPECT_EQ(folds, blend_fold_of(103, 5, 9));
  EXPECT_NE(folds, blend_fold_of(103, 5, 10));
}

TEST(BlendTest, WeightsSolveTheRidgeLeastSquares) {
  // Exact: y = 1 + 2 p1 - p2 on four rows -> (1, 2, -1) with reg 0.
  const std::vector<double> p = {1, 0, 2, 1, 0, 3, 4, 2};
  const std::vector<float> y = {3, 4, -2, 7};
  const auto w = stack_weights(p, y, 2, 0.0);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_NEAR(w[0], 1.0, 1e-9);
  EXPECT_NEAR(w[1], 2.0, 1e-9);
  EXPECT_NEAR(w[2], -1.0, 1e-9);
  // One base with ridge: the slope is S_xy / (S_xx + reg) on centered data, the intercept
  // mean(y) - slope * mean(x). x = 0, 1, 2, 3; y = 1, 3, 2, 6; S_xy = 7, S_xx = 5, reg 2.5.
  const std::vector<double> x = {0, 1, 2, 3};
  const std::vector<float> y1 = {1, 3, 2, 6};
  const auto r = stack_weights(x, y1, 1, 2.5);
  EXPECT_NEAR(r[1], 7.0 / 7.5, 1e-9);
  EXPECT_NEAR(r[0], 3.0 - 7.0 / 7.5 * 1.5, 1e-9);
  // Two identical columns and no ridge: singular.
  const std::vector<double> twin = {1, 1, 2, 2, 4, 4};
  const std::vector<float> y2 = {1, 2, 3};
  EXPECT_THAT([&] { (void)stack_weights(twin, y2, 2, 0.0); },
              ThrowsMessage<Error>(HasSubstr("collinear")));
  EXPECT_NO_THROW((void)stack_weights(twin, y2, 2, 0.1));
}

TEST(BlendTest, PredictsTheWeightedSumOfItsBasesFitAlone) {
  const Dataset d = reco::testing::random_dataset(60, 40, 0.3, 5);
  const auto all = all_rating_indices(d);
  const Params p = parse_params(
      "blend", {{"algorithms", "baseline,svd(n_factors=4;n_epochs=5)"}, {"blend_folds", "3"}});
  const auto model = fit("blend", p, d, all, {0.5f, 5.0f}, 11);
  model->validate();
  const auto& blend = dynamic_cast<const BlendModel&>(*model);
  ASSERT_EQ(blend.weights.size(), 3u);
  const auto base = fit("baseline", default_params("baseline"), d, all, {0.5f, 5.0f}, 11);
  const auto svd = fit("svd", parse_params("svd", {{"n_factors", "4"}, {"n_epochs", "5"}}), d, all,
                       {0.5f, 5.0f}, 11);
  for (int64_t u = -1; u < 10; ++u) {
    for (int64_t i = -1; i < 10; ++i) {
      const double expected =
          blend.weights[0] +
          blend.weights[1] * base->clip(static_cast<float>(base->estimate(u, i))) +
          blend.weights[2] * svd->clip(static_cast<float>(svd->estimate(u, i)));
      EXPECT_EQ(model->estimate(u, i), expected) << u << " " << i;
    }
  }
  // score_block is (float)estimate bit for bit, known and unknown users.
  const std::vector<uint32_t> users = {0, 3, 7};
  std::vector<float> out(users.size() * 12);
  model->score_block(users, 5, 12, out.data(), 12);
  for (size_t t = 0; t < users.size(); ++t) {
    for (uint32_t j = 0; j < 12; ++j)
      EXPECT_EQ(out[t * 12 + j], static_cast<float>(model->estimate(users[t], 5 + j)));
  }
  std::vector<float> unknown(12);
  model->score_unknown_user(5, 12, unknown.data());
  for (uint32_t j = 0; j < 12; ++j)
    EXPECT_EQ(unknown[j], static_cast<float>(model->estimate(-1, 5 + j)));
  // Same seed, same weights; another seed, other folds and weights.
  const auto again = fit("blend", p, d, all, {0.5f, 5.0f}, 11);
  EXPECT_EQ(dynamic_cast<const BlendModel&>(*again).weights, blend.weights);
  const auto other = fit("blend", p, d, all, {0.5f, 5.0f}, 12);
  EXPECT_NE(dynamic_cast<const BlendModel&>(*other).weights, blend.weights);
  // Any thread count gives the same model.
  const auto one_thread = fit("blend", p, d, all, {0.5f, 5.0f}, 11, {}, nullptr, 1);
  EXPECT_EQ(dynamic_cast<const BlendModel&>(*one_thread).weights, blend.weights);
}

TEST(BlendTest, RefusesTooFewRatingsAndCollinearTwins) {
  const Dataset d = reco::testing::random_dataset(30, 20, 0.3, 6);
  const auto all = all_rating_indices(d);
  const std::vector<uint32_t> three(all.begin(), all.begin() + 3);
  EXPECT_THAT(
      [&] {
        (void)fit("blend", parse_params("blend", {{"algorithms", "baseline,svd"}}), d, three,
                  {0.5f, 5.0f}, 1);
      },
      ThrowsMessage<Error>(HasSubstr("3 training ratings, fewer than blend_folds (5)")));
  EXPECT_THAT(
      [&] {
        (void)fit("blend",
                  parse_params("blend", {{"algorithms", "baseline,baseline"}, {"reg", "0"}}), d,
                  all, {0.5f, 5.0f}, 1);
      },
      ThrowsMessage<Error>(HasSubstr("collinear")));
}

}  // namespace
}  // namespace reco::algorithms
