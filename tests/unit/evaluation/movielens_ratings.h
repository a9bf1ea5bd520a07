#pragma once
// A deliberately tiny reader for MovieLens ratings.csv (userId,movieId,rating,timestamp; no
// quoting in this file), so the algorithm tests do not depend on the data module.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "core/ratings.h"

namespace reco::testing {

inline std::filesystem::path movielens_small_dir() {
  return RECO_MOVIELENS_SMALL;
}

// nullopt when the data set is not installed.
inline std::optional<RawRatings> read_movielens_small_ratings() {
  const auto path = movielens_small_dir() / "ratings.csv";
  std::ifstream in(path);
  if (!in) return std::nullopt;
  RawRatings raw;
  raw.reserve(100836);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    std::string user, item, rating;
    std::getline(fields, user, ',');
    std::getline(fields, item, ',');
    std::getline(fields, rating, ',');
    raw.push_back(std::stoll(user), std::stoll(item), std::stof(rating));
  }
  return raw;
}

}  // namespace reco::testing

// Skips the test with a message that shows up in the test log instead of passing silently.
#define RECO_REQUIRE_MOVIELENS_SMALL(var)                                      \
  auto var##_opt = ::reco::testing::read_movielens_small_ratings();            \
  if (!var##_opt) {                                                            \
    GTEST_SKIP() << "\n\n*** SKIPPED: MovieLens ml-latest-small not found at " \
                 << ::reco::testing::movielens_small_dir()                     \
                 << " (set -DRECO_MOVIELENS_SMALL=<dir>) ***\n";               \
  }                                                                            \
  const ::reco::RawRatings& var = *var##_opt
