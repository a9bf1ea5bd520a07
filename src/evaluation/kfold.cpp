#include "evaluation/kfold.h"

#include <limits>
#include <numeric>

#include <fmt/format.h>

#include "algorithms/training_set.h"
#include "core/error.h"
#include "core/random.h"

namespace reco::evaluation {

KFold::KFold(size_t n_ratings, int folds, uint64_t seed) {
  if (folds < 2) {
    throw Error(ErrorKind::kInput,
                fmt::format("cross-validation needs at least 2 folds, got {}", folds));
  }
  if (n_ratings < static_cast<size_t>(folds)) {
    throw Error(ErrorKind::kInput,
                fmt::format("cannot cut {} rating{} into {} folds: each fold needs at least one "
                            "rating",
                            n_ratings, n_ratings == 1 ? "" : "s", folds));
  }
  if (n_ratings > std::numeric_limits<uint32_t>::max()) {
    throw Error(ErrorKind::kInput, fmt::format("{} ratings is more than the supported maximum {}",
                                               n_ratings, std::numeric_limits<uint32_t>::max()));
  }
  permutation_.resize(n_ratings);
  std::iota(permutation_.begin(), permutation_.end(), 0u);
  Rng rng(seed, algorithms::rng_stream::kFoldShuffle);
  rng.shuffle(permutation_);

  const size_t k = static_cast<size_t>(folds);
  bounds_.assign(k + 1, 0);
  for (size_t f = 0; f < k; ++f) {
    bounds_[f + 1] = bounds_[f] + n_ratings / k + (f < n_ratings % k ? 1 : 0);
  }
}

namespace {
void check_fold(int fold, int folds) {
  if (fold < 0 || fold >= folds) {
    throw Error(ErrorKind::kInternal, fmt::format("fold {} out of range [0, {})", fold, folds));
  }
}
}  // namespace

std::span<const uint32_t> KFold::test_indices(int fold) const {
  check_fold(fold, folds());
  const auto f = static_cast<size_t>(fold);
  return std::span<const uint32_t>(permutation_).subspan(bounds_[f], bounds_[f + 1] - bounds_[f]);
}

std::vector<uint32_t> KFold::train_indices(int fold) const {
  check_fold(fold, folds());
  const auto f = static_cast<size_t>(fold);
  std::vector<uint32_t> train;
  train.reserve(permutation_.size() - (bounds_[f + 1] - bounds_[f]));
  train.insert(train.end(), permutation_.begin(),
               permutation_.begin() + static_cast<ptrdiff_t>(bounds_[f]));
  train.insert(train.end(), permutation_.begin() + static_cast<ptrdiff_t>(bounds_[f + 1]),
               permutation_.end());
  return train;
}

}  // namespace reco::evaluation
