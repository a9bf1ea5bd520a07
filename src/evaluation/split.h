#pragma once
// The ways an evaluation divides the ratings (kfold.h has the interface and Surprise's KFold):
//   kfold       k shuffled folds, each tested once (Surprise's KFold; the default);
//   stratified  one split per user, as Microsoft Recommenders' python_stratified_split: each
//               user's ratings are shuffled (seeded) and the last round(test_ratio x n) of them
//               held out, so every user with two or more ratings is in both parts; the ranking
//               benchmarks (75/25) use it;
//   last_n      one split by time: each user's n most recent ratings held out (a user with n or
//               fewer ratings stays in training only); ties in time go by input order;
//   files       predefined folds (e.g. ml-100k's u1.base / u1.test ... u5): fold f trains on the
//               (user, item) pairs of train_files[f] and tests on those of test_files[f]; each
//               pair must be a rating of the input, and a fold's two files must not share one.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/ratings.h"
#include "evaluation/kfold.h"

namespace reco::evaluation {

struct SplitSpec {
  enum class Kind { kKFold, kStratified, kLastN, kFiles };
  Kind kind = Kind::kKFold;
  int folds = 5;             // kfold
  double test_ratio = 0.25;  // stratified: share of each user's ratings held out, in (0, 1)
  int test_n = 1;            // last_n: ratings held out per user
  std::vector<std::string> train_files, test_files;  // files: one pair per fold

  // "kfold" | "stratified" | "last_n" | "files"; Error(kUsage) listing them else.
  static Kind parse_kind(std::string_view name);
  static const char* name(Kind kind);
};

// A comma-separated list of paths (the flat form of the options JSON's arrays).
std::vector<std::string> split_path_list(std::string_view text);

class StratifiedSplit final : public Split {
 public:
  // Throws Error(kInput) when no rating is held out (every user has a single rating).
  StratifiedSplit(const Dataset& data, double test_ratio, uint64_t seed);

  int folds() const override { return 1; }
  std::span<const uint32_t> test_indices(int fold) const override;
  std::vector<uint32_t> train_indices(int fold) const override;

 private:
  std::vector<uint32_t> train_, test_;  // ascending rating numbers
};

class LastNSplit final : public Split {
 public:
  // data.timestamp must be filled. Throws Error(kInput) when no user has more than n ratings.
  LastNSplit(const Dataset& data, int n);

  int folds() const override { return 1; }
  std::span<const uint32_t> test_indices(int fold) const override;
  std::vector<uint32_t> train_indices(int fold) const override;

 private:
  std::vector<uint32_t> train_, test_;
};

class FileSplit final : public Split {
 public:
  // Reads each file: one rating per line, fields separated by a tab, a comma, ';', '|' or spaces
  // (the first two are the user and item ids; further fields are ignored), an optional header
  // line. Throws Error(kNotFound) for a missing file and Error(kInput) naming the file and line
  // for a bad line, an id or pair not in the input, a pair twice in a file, or a pair in both
  // files of a fold.
  FileSplit(const Dataset& data, const std::vector<std::string>& train_files,
            const std::vector<std::string>& test_files);

  int folds() const override { return static_cast<int>(train_.size()); }
  std::span<const uint32_t> test_indices(int fold) const override;
  std::vector<uint32_t> train_indices(int fold) const override;
  size_t train_size(int fold, size_t) const override {
    return train_.at(static_cast<size_t>(fold)).size();
  }

 private:
  std::vector<std::vector<uint32_t>> train_, test_;  // per fold, in file order
};

std::unique_ptr<Split> make_split(const SplitSpec& spec, const Dataset& data, uint64_t seed);

}  // namespace reco::evaluation
