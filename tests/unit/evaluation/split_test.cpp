// Stratified per-user holdout (split.h) beside Surprise's KFold.
#include "evaluation/split.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>

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
  EXPECT_THAT([] { (void)SplitSpec::parse_kind("leave_one_out"); },
              ::testing::ThrowsMessage<Error>(HasSubstr("kfold, stratified, last_n or files")));
  EXPECT_EQ(SplitSpec::parse_kind("last_n"), SplitSpec::Kind::kLastN);
  EXPECT_STREQ(SplitSpec::name(SplitSpec::Kind::kFiles), "files");
}

// user, item, rating, timestamp
RawRatings timed(const std::vector<std::tuple<int64_t, int64_t, float, int64_t>>& rows) {
  RawRatings raw;
  for (const auto& [u, i, r, t] : rows) {
    raw.push_back(u, i, r);
    raw.timestamps.push_back(t);
  }
  return raw;
}

TEST(LastNSplit, HoldsOutEachUsersMostRecentRatingsTiesByInputOrder) {
  // User 1: times 30, 10, 20, 20 -> the two most recent are row 0 (30) and row 3 (the later of
  // the two 20s). User 2 has two ratings: both stay in training with n = 2.
  const Dataset d = Dataset::from_raw(timed({{1, 10, 4, 30},
                                             {1, 11, 3, 10},
                                             {1, 12, 2, 20},
                                             {1, 13, 5, 20},
                                             {2, 10, 1, 5},
                                             {2, 11, 2, 6}}));
  const LastNSplit s(d, 2);
  ASSERT_EQ(s.folds(), 1);
  EXPECT_THAT(std::vector<uint32_t>(s.test_indices(0).begin(), s.test_indices(0).end()),
              ::testing::ElementsAre(0u, 3u));
  EXPECT_THAT(s.train_indices(0), ::testing::ElementsAre(1u, 2u, 4u, 5u));
  const LastNSplit one(d, 1);
  EXPECT_THAT(std::vector<uint32_t>(one.test_indices(0).begin(), one.test_indices(0).end()),
              ::testing::ElementsAre(0u, 5u));
  EXPECT_THAT([&] { LastNSplit(d, 4); },
              ::testing::ThrowsMessage<Error>(HasSubstr("no user has more than 4 ratings")));
}

class FileSplitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("reco-split-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const auto path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  std::filesystem::path dir_;
  // Users 1..2, items 10..12: ratings 0..5 in this order.
  Dataset data_ = Dataset::from_raw(timed(
      {{1, 10, 4, 0}, {1, 11, 3, 0}, {1, 12, 2, 0}, {2, 10, 5, 0}, {2, 11, 1, 0}, {2, 12, 2, 0}}));
};

TEST_F(FileSplitTest, FoldsAreThePairsOfEachFileInFileOrder) {
  // ml-100k's layout (tabs, four fields) and a CSV with a header; blank lines are skipped.
  const auto base1 = write("u1.base", "1\t10\t4\t881250949\n2\t12\t2\t1\n\n1\t12\t2\t5\n");
  const auto test1 = write("u1.test", "2\t10\t5\t0\r\n");
  const auto base2 = write("u2.csv", "userId,movieId,rating\n2,11,1\n1,10,4\n");
  const auto test2 = write("u2t.csv", "user item\n 1  11 \n");
  const FileSplit s(data_, {base1, base2}, {test1, test2});
  ASSERT_EQ(s.folds(), 2);
  EXPECT_THAT(s.train_indices(0), ::testing::ElementsAre(0u, 5u, 2u));
  EXPECT_THAT(std::vector<uint32_t>(s.test_indices(0).begin(), s.test_indices(0).end()),
              ::testing::ElementsAre(3u));
  EXPECT_THAT(s.train_indices(1), ::testing::ElementsAre(4u, 0u));
  EXPECT_THAT(std::vector<uint32_t>(s.test_indices(1).begin(), s.test_indices(1).end()),
              ::testing::ElementsAre(1u));
}

TEST_F(FileSplitTest, BadFilesAreNamedWithTheirLine) {
  const auto base = write("base", "1\t10\n2\t11\n");
  auto fails = [&](const std::string& test_text, const std::string& expected) {
    const auto test = write("test", test_text);
    try {
      FileSplit(data_, {base}, {test});
      ADD_FAILURE() << test_text;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInput);
      EXPECT_THAT(e.what(), HasSubstr(expected)) << test_text;
    }
  };
  fails("1\t12\n7\t10\n", "line 2: user 7 is not in the input table");
  fails("1\t99\n", "line 1: item 99 is not in the input table");
  fails("1\t12\n2\tx\n", "line 2: field 2 (the item) is not an integer id");
  fails("2\t12\n2\t12\n", "line 2: user 2 and item 12 are on line 1 already");
  fails("2\t11\n", "line 1: user 2 and item 11 are also in the training file");
  fails("\n", "names no rating");
  RawRatings sparse;
  sparse.push_back(1, 10, 4);
  sparse.push_back(2, 11, 3);
  const auto test = write("test2", "1\t11\n");
  EXPECT_THAT([&] { FileSplit(Dataset::from_raw(sparse), {base}, {test}); },
              ::testing::ThrowsMessage<Error>(HasSubstr("user 1 has not rated item 11")));
  EXPECT_THAT([&] { FileSplit(data_, {base}, {(dir_ / "missing").string()}); },
              ::testing::ThrowsMessage<Error>(HasSubstr("cannot be read")));
  EXPECT_THAT(
      [&] {
        FileSplit(data_, {base, base}, {test});
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("2 train_files and 1 test_files")));
}

TEST(SplitPathList, CommaSeparatedWithSpacesTrimmed) {
  EXPECT_THAT(split_path_list(" a/u1.base, b ,,c"), ::testing::ElementsAre("a/u1.base", "b", "c"));
  EXPECT_TRUE(split_path_list("").empty());
}

}  // namespace
}  // namespace reco::evaluation
