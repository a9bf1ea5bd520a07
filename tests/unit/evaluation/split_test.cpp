// Stratified per-user holdout (split.h) beside Surprise's KFold.
#include "evaluation/split.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "../algorithms/test_data.h"
#include "core/error.h"

namespace reco::evaluation {
namespace {

using ::testing::HasSubstr;

TEST(StratifiedSplit, HoldsOutEachUsersShareAndKeepsEveryUserInTraining) {
  const Dataset d = reco::testing::random_dataset(70, 60, 0.3, 21);
  const StratifiedSplit s(d, 0.25, 7);
  ASSERT_EQ(s.folds(), 1);
  const auto test = s.test_indices(0);
  const auto train = s.train_indices(0);
  EXPECT_EQ(test.size() + train.size(), d.size());
  EXPECT_TRUE(std::is_sorted(test.begin(), test.end()));
  EXPECT_TRUE(std::is_sorted(train.begin(), train.end()));
  std::map<uint32_t, std::pair<size_t, size_t>> per_user;  // train, test
  for (const uint32_t k : train) ++per_user[d.user[k]].first;
  for (const uint32_t k : test) ++per_user[d.user[k]].second;
  for (const auto& [user, counts] : per_user) {
    const size_t n = counts.first + counts.second;
    EXPECT_EQ(counts.first, static_cast<size_t>(std::llround(0.75 * static_cast<double>(n))))
        << "user " << user;
    if (n >= 2) {
      EXPECT_GE(counts.first, 1u);
    }
  }
  // Seeded: the same split again, another with another seed.
  const StratifiedSplit again(d, 0.25, 7);
  EXPECT_TRUE(std::equal(test.begin(), test.end(), again.test_indices(0).begin(),
                         again.test_indices(0).end()));
  const StratifiedSplit other(d, 0.25, 8);
  EXPECT_FALSE(std::equal(test.begin(), test.end(), other.test_indices(0).begin(),
                          other.test_indices(0).end()));
}

TEST(StratifiedSplit, RefusesRatiosOutsideZeroOneAndSplitsThatHoldNothingOut) {
  const Dataset d = reco::testing::random_dataset(20, 20, 0.3, 3);
  for (const double bad : {0.0, 1.0, -0.5, 1.5, std::nan("")}) {
    try {
      StratifiedSplit(d, bad, 1);
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUsage);
      EXPECT_THAT(e.what(), HasSubstr("test_ratio"));
    }
  }
  RawRatings one_each;
  for (int u = 0; u < 5; ++u) one_each.push_back(u, u, 3.0f);
  try {
    StratifiedSplit(Dataset::from_raw(one_each), 0.25, 1);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("holds out 0 of 5 ratings"));
  }
  EXPECT_THAT([] { (void)SplitSpec::parse_kind("last_n"); },
              ::testing::ThrowsMessage<Error>(HasSubstr("kfold or stratified")));
}

}  // namespace
}  // namespace reco::evaluation
