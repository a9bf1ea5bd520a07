#include "recommendation/top_n.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "../algorithms/test_data.h"
#include "algorithms/train.h"
#include "core/error.h"
#include "core/random.h"

namespace reco::recommendation {
namespace {

using algorithms::FactorModel;

// A model with random parameters on a coarse grid (k/4, exactly representable) so that many
// estimates tie exactly; raw item ids are a permutation so that dense order and raw order
// disagree; some item rows are duplicated outright.
FactorModel random_model(uint32_t n_users, uint32_t n_items, uint32_t n_factors, bool biased,
                         uint64_t seed) {
  Rng rng(seed, 7);
  FactorModel m;
  m.algorithm = "svd";
  m.biased = biased;
  m.global_mean = 3.25;
  m.scale = {0.5f, 5.0f};
  std::vector<int64_t> user_ids(n_users), item_ids(n_items);
  for (uint32_t u = 0; u < n_users; ++u) user_ids[u] = 100 + 3 * int64_t{u};
  std::iota(item_ids.begin(), item_ids.end(), int64_t{1});
  rng.shuffle(item_ids);
  for (auto& id : item_ids) id *= 10;
  m.users = IdIndex::from_raw_ids(user_ids);
  m.items = IdIndex::from_raw_ids(item_ids);
  auto grid = [&] { return static_cast<float>(static_cast<int>(rng.below(9)) - 4) / 4.0f; };
  m.n_factors = n_factors;
  m.user_bias.resize(n_users, 0.0f);
  m.item_bias.resize(n_items, 0.0f);
  if (biased) {
    for (auto& b : m.user_bias) b = grid();
    for (auto& b : m.item_bias) b = grid();
  }
  m.user_factors.resize(size_t{n_users} * n_factors);
  m.item_factors.resize(size_t{n_items} * n_factors);
  for (auto& x : m.user_factors) x = grid();
  for (auto& x : m.item_factors) x = grid();
  for (uint32_t i = 1; i < n_items; i += 5) {  // exact duplicates of the previous item
    std::copy_n(m.item_factors.begin() + (i - 1) * n_factors, n_factors,
                m.item_factors.begin() + i * n_factors);
    m.item_bias[i] = m.item_bias[i - 1];
  }
  m.rated_offsets.push_back(0);
  for (uint32_t u = 0; u < n_users; ++u) {
    // User 0 rated everything, user 1 nothing, the others a random share.
    const double share = u == 0 ? 1.0 : u == 1 ? 0.0 : rng.uniform() * 0.9;
    for (uint32_t i = 0; i < n_items; ++i) {
      if (u == 0 || rng.uniform() < share) m.rated_items.push_back(i);
    }
    m.rated_offsets.push_back(m.rated_items.size());
  }
  m.validate();
  return m;
}

std::vector<Scored> brute_force(const FactorModel& m, int64_t user,
                                const std::vector<uint32_t>& excluded, size_t k) {
  std::vector<Scored> all;
  for (uint32_t i = 0; i < m.n_items(); ++i) {
    if (std::find(excluded.begin(), excluded.end(), i) != excluded.end()) continue;
    all.push_back({i, static_cast<float>(m.estimate(user, i))});
  }
  std::sort(all.begin(), all.end(), [&](const Scored& a, const Scored& b) {
    if (a.score != b.score) return a.score > b.score;
    return m.items.raw(a.item) < m.items.raw(b.item);
  });
  if (all.size() > k) all.resize(k);
  return all;
}

std::vector<uint32_t> rated(const FactorModel& m, uint32_t u) {
  const auto r = m.rated_by(u);
  return {r.begin(), r.end()};
}

void expect_same(const std::vector<Scored>& got, const std::vector<Scored>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t r = 0; r < got.size(); ++r) {
    EXPECT_EQ(got[r].item, want[r].item) << "rank " << r;
    EXPECT_EQ(got[r].score, want[r].score) << "rank " << r;  // bit-identical to estimate()
  }
}

TEST(TopNTest, AllUsersMatchesBruteForceWithTiesAndExclusions) {
  for (const uint32_t nf : {0u, 1u, 3u, 8u, 17u}) {
    for (const bool biased : {true, false}) {
      SCOPED_TRACE(::testing::Message() << "factors " << nf << " biased " << biased);
      const FactorModel m = random_model(23, 61, nf, biased, 100 + nf);
      for (const size_t k : {size_t{0}, size_t{1}, size_t{10}, size_t{61}, size_t{500}}) {
        const auto top = top_n_all_users(m, k, 1);
        ASSERT_EQ(top.size(), m.n_users());
        for (uint32_t u = 0; u < m.n_users(); ++u) {
          SCOPED_TRACE(::testing::Message() << "user " << u << " k " << k);
          expect_same(top[u], brute_force(m, u, rated(m, u), k));
        }
        EXPECT_TRUE(top[0].empty());  // rated everything
        EXPECT_EQ(top[1].size(), std::min<size_t>(k, m.n_items()));
      }
    }
  }
}

TEST(TopNTest, TiesAreBrokenBySmallerRawItemId) {
  FactorModel m = random_model(2, 30, 2, true, 5);
  std::fill(m.item_factors.begin(), m.item_factors.end(), 0.5f);
  std::fill(m.item_bias.begin(), m.item_bias.end(), 0.25f);
  const auto top = top_n_all_users(m, 30, 1);
  ASSERT_EQ(top[1].size(), 30u);
  for (size_t r = 1; r < 30; ++r) {
    EXPECT_EQ(top[1][r].score, top[1][0].score);
    EXPECT_LT(m.items.raw(top[1][r - 1].item), m.items.raw(top[1][r].item));
  }
}

TEST(TopNTest, ResultDoesNotDependOnThreadCount) {
  const FactorModel m = random_model(203, 150, 12, true, 9);
  const auto one = top_n_all_users(m, 7, 1);
  for (const int threads : {2, 3, 16, 0}) {
    const auto many = top_n_all_users(m, 7, threads);
    ASSERT_EQ(many.size(), one.size());
    for (size_t u = 0; u < one.size(); ++u) expect_same(many[u], one[u]);
  }
}

TEST(TopNTest, SingleUserUsesTheSameRanking) {
  const FactorModel m = random_model(9, 40, 5, true, 11);
  const auto all = top_n_all_users(m, 6, 2);
  for (uint32_t u = 0; u < m.n_users(); ++u) {
    expect_same(top_n_for_user(m, m.users.raw(u), 6), all[u]);
  }
  // Extra exclusions on top of the rated items; ids the model does not know are ignored.
  const uint32_t u = 4;
  const std::vector<int64_t> extra = {m.items.raw(all[u][0].item), m.items.raw(all[u][2].item),
                                      -12345};
  std::vector<uint32_t> excluded = rated(m, u);
  excluded.push_back(all[u][0].item);
  excluded.push_back(all[u][2].item);
  expect_same(top_n_for_user(m, m.users.raw(u), 6, extra), brute_force(m, u, excluded, 6));
}

TEST(TopNTest, UnknownUserIsRankedByTheFallbackEstimate) {
  for (const bool biased : {true, false}) {
    const FactorModel m = random_model(5, 33, 4, biased, 12);
    const auto top = top_n_for_user(m, 999999, 8);
    expect_same(top, brute_force(m, -1, {}, 8));
    for (const auto& s : top) {
      // Unbiased: the global mean for every item (Surprise's default prediction).
      EXPECT_EQ(s.score,
                static_cast<float>(biased ? m.global_mean + m.item_bias[s.item] : m.global_mean));
    }
    const std::vector<int64_t> extra = {m.items.raw(top[0].item)};
    expect_same(top_n_for_user(m, 999999, 8, extra), brute_force(m, -1, {top[0].item}, 8));
  }
}

TEST(TopNTest, TrainedModelMatchesBruteForce) {
  const Dataset d = reco::testing::random_dataset(37, 53, 0.3, 14);
  const auto params = algorithms::parse_params("svd", {{"n_factors", "9"}, {"n_epochs", "4"}});
  const FactorModel m =
      reco::testing::fit_factor("svd", params, d, algorithms::all_rating_indices(d), {0.5, 5}, 3);
  const auto top = top_n_all_users(m, 10, 2);
  for (uint32_t u = 0; u < m.n_users(); ++u)
    expect_same(top[u], brute_force(m, u, rated(m, u), 10));
  const FactorModel b =
      reco::testing::fit_factor("baseline", algorithms::default_params("baseline"), d,
                                algorithms::all_rating_indices(d), {0.5, 5}, 3);
  const auto btop = top_n_all_users(b, 10, 2);
  for (uint32_t u = 0; u < b.n_users(); ++u)
    expect_same(btop[u], brute_force(b, u, rated(b, u), 10));
}

TEST(TopNTest, ScoringAcceptsOnlyMatchingBuffers) {
  const FactorModel m = random_model(3, 10, 2, true, 15);
  const TopN top(m);
  std::vector<float> small(5);
  EXPECT_THROW(top.score_all(0, small), Error);
  std::vector<float> ok(10);
  EXPECT_THROW(top.score_all(3, ok), Error);
  std::vector<float> scratch;
  EXPECT_THROW(top.for_model_users(2, 2, 5, scratch), Error);
}

}  // namespace
}  // namespace reco::recommendation
