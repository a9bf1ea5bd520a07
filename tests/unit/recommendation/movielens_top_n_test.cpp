// Real data: the full default-SVD refit on MovieLens ml-latest-small and every user's top 10.

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>

#include "../evaluation/movielens_ratings.h"
#include "algorithms/train.h"
#include "recommendation/top_n.h"

namespace reco::recommendation {
namespace {

TEST(MovieLensTopNTest, FullFitAndTopTenForEveryUser) {
  RECO_REQUIRE_MOVIELENS_SMALL(raw);
  const Dataset data = Dataset::from_raw(raw);
  const auto all = algorithms::all_rating_indices(data);
  auto t0 = std::chrono::steady_clock::now();
  const auto model_ptr =
      algorithms::fit("svd", algorithms::default_params("svd"), data, all, {0.5, 5}, 42);
  const algorithms::Model& model = *model_ptr;
  const double fit_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  model.validate();
  ASSERT_EQ(model.n_users(), 610u);
  ASSERT_EQ(model.n_items(), 9724u);

  t0 = std::chrono::steady_clock::now();
  const auto top = top_n_all_users(model, 10, 2);
  const double top_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "full fit " << fit_s << " s, top-10 for all " << top.size() << " users " << top_s
            << " s (2 threads)\n";

  ASSERT_EQ(top.size(), 610u);
  for (uint32_t u = 0; u < model.n_users(); ++u) {
    ASSERT_EQ(top[u].size(), 10u);
    const auto rated = model.rated_by(u);
    for (size_t r = 0; r < 10; ++r) {
      EXPECT_FALSE(std::binary_search(rated.begin(), rated.end(), top[u][r].item));
      EXPECT_EQ(top[u][r].score, static_cast<float>(model.estimate(u, top[u][r].item)));
      if (r > 0) {
        EXPECT_GE(top[u][r - 1].score, top[u][r].score);
      }
    }
  }
  // The 10th best of user 0 beats every other unrated item.
  const auto rated0 = model.rated_by(0);
  for (uint32_t i = 0; i < model.n_items(); ++i) {
    if (std::binary_search(rated0.begin(), rated0.end(), i)) continue;
    if (std::any_of(top[0].begin(), top[0].end(), [&](const Scored& s) { return s.item == i; }))
      continue;
    EXPECT_LE(static_cast<float>(model.estimate(0, i)), top[0][9].score);
  }
  EXPECT_EQ(top_n_for_user(model, data.users.raw(0), 10).front().item, top[0].front().item);
}

}  // namespace
}  // namespace reco::recommendation
