#include "evaluation/kfold.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <numeric>

#include "algorithms/training_set.h"
#include "core/error.h"
#include "core/random.h"

namespace reco::evaluation {
namespace {

std::vector<size_t> fold_sizes(const KFold& kf) {
  std::vector<size_t> sizes;
  for (int f = 0; f < kf.folds(); ++f) sizes.push_back(kf.test_indices(f).size());
  return sizes;
}

TEST(KFoldTest, FirstNModKFoldsGetOneExtraRating) {
  EXPECT_EQ(fold_sizes(KFold(13, 5, 1)), (std::vector<size_t>{3, 3, 3, 2, 2}));
  EXPECT_EQ(fold_sizes(KFold(10, 5, 1)), (std::vector<size_t>{2, 2, 2, 2, 2}));
  EXPECT_EQ(fold_sizes(KFold(5, 5, 1)), (std::vector<size_t>{1, 1, 1, 1, 1}));
  EXPECT_EQ(fold_sizes(KFold(100836, 5, 42)),
            (std::vector<size_t>{20168, 20167, 20167, 20167, 20167}));
  EXPECT_EQ(fold_sizes(KFold(7, 2, 1)), (std::vector<size_t>{4, 3}));
}

TEST(KFoldTest, EveryRatingIsTestedExactlyOnceAndTrainIsTheRestInOrder) {
  for (const auto& [n, k] : {std::pair<size_t, int>{13, 5}, {1000, 3}, {17, 17}, {2, 2}}) {
    const KFold kf(n, k, 7);
    std::vector<int> tested(n, 0);
    for (int f = 0; f < k; ++f) {
      const auto test = kf.test_indices(f);
      for (uint32_t i : test) ++tested[i];
      const auto train = kf.train_indices(f);
      EXPECT_EQ(train.size() + test.size(), n);
      // Train = the permutation without the test slice, in permutation order.
      std::vector<uint32_t> expected;
      for (uint32_t i : kf.permutation()) {
        if (std::find(test.begin(), test.end(), i) == test.end()) expected.push_back(i);
      }
      EXPECT_EQ(train, expected);
    }
    EXPECT_EQ(tested, std::vector<int>(n, 1)) << "n=" << n << " k=" << k;
  }
}

TEST(KFoldTest, SlicesAreContiguousInTheSeededPermutation) {
  const KFold kf(50, 4, 99);
  std::vector<uint32_t> expected(50);
  std::iota(expected.begin(), expected.end(), 0u);
  Rng rng(99, algorithms::rng_stream::kFoldShuffle);
  rng.shuffle(expected);
  EXPECT_EQ(kf.permutation(), expected);
  std::vector<uint32_t> concatenated;
  for (int f = 0; f < 4; ++f) {
    const auto t = kf.test_indices(f);
    concatenated.insert(concatenated.end(), t.begin(), t.end());
  }
  EXPECT_EQ(concatenated, expected);
  EXPECT_NE(KFold(50, 4, 100).permutation(), expected);
  EXPECT_EQ(KFold(50, 4, 99).permutation(), expected);
}

TEST(KFoldTest, RejectsTooFewFoldsOrRatings) {
  auto message = [](size_t n, int k) {
    try {
      KFold(n, k, 1);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInput);
      return std::string(e.what());
    }
    ADD_FAILURE() << "no error for n=" << n << " k=" << k;
    return std::string();
  };
  EXPECT_THAT(message(10, 1), ::testing::HasSubstr("at least 2 folds, got 1"));
  EXPECT_THAT(message(10, 0), ::testing::HasSubstr("got 0"));
  EXPECT_THAT(message(10, -3), ::testing::HasSubstr("got -3"));
  EXPECT_THAT(message(4, 5), ::testing::HasSubstr("cannot cut 4 ratings into 5 folds"));
  EXPECT_THAT(message(0, 2), ::testing::HasSubstr("cannot cut 0 ratings into 2 folds"));
}

}  // namespace
}  // namespace reco::evaluation
