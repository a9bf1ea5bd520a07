#include "evaluation/split.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "algorithms/training_set.h"
#include "core/error.h"
#include "core/random.h"

namespace reco::evaluation {

SplitSpec::Kind SplitSpec::parse_kind(std::string_view name) {
  if (name == "kfold") return Kind::kKFold;
  if (name == "stratified") return Kind::kStratified;
  throw Error(ErrorKind::kUsage,
              fmt::format("split: '{}' is not a split kind (kfold or stratified)", name));
}

const char* SplitSpec::name(Kind kind) {
  return kind == Kind::kKFold ? "kfold" : "stratified";
}

StratifiedSplit::StratifiedSplit(const Dataset& data, double test_ratio, uint64_t seed) {
  if (!(test_ratio > 0.0 && test_ratio < 1.0)) {
    throw Error(ErrorKind::kUsage,
                fmt::format("test_ratio: {} is out of range (0, 1)", test_ratio));
  }
  // Each user's rating numbers in input order, then shuffled with one generator in user order.
  std::vector<std::vector<uint32_t>> by_user(data.n_users());
  for (uint32_t k = 0; k < data.size(); ++k) by_user[data.user[k]].push_back(k);
  Rng rng(seed, algorithms::rng_stream::kFoldShuffle);
  for (auto& ratings : by_user) {
    rng.shuffle(ratings);
    const size_t n = ratings.size();
    const auto keep =
        static_cast<size_t>(std::llround((1.0 - test_ratio) * static_cast<double>(n)));
    train_.insert(train_.end(), ratings.begin(), ratings.begin() + static_cast<ptrdiff_t>(keep));
    test_.insert(test_.end(), ratings.begin() + static_cast<ptrdiff_t>(keep), ratings.end());
  }
  std::sort(train_.begin(), train_.end());
  std::sort(test_.begin(), test_.end());
  if (test_.empty() || train_.empty()) {
    throw Error(ErrorKind::kInput,
                fmt::format("a stratified split with test_ratio {} holds out {} of {} ratings: "
                            "each user needs more ratings",
                            test_ratio, test_.size(), data.size()));
  }
}

std::span<const uint32_t> StratifiedSplit::test_indices(int fold) const {
  if (fold != 0) throw Error(ErrorKind::kInternal, fmt::format("fold {} of a single split", fold));
  return test_;
}

std::vector<uint32_t> StratifiedSplit::train_indices(int fold) const {
  if (fold != 0) throw Error(ErrorKind::kInternal, fmt::format("fold {} of a single split", fold));
  return train_;
}

std::unique_ptr<Split> make_split(const SplitSpec& spec, const Dataset& data, uint64_t seed) {
  if (spec.kind == SplitSpec::Kind::kStratified) {
    return std::make_unique<StratifiedSplit>(data, spec.test_ratio, seed);
  }
  return std::make_unique<KFold>(data.size(), spec.folds, seed);
}

}  // namespace reco::evaluation
