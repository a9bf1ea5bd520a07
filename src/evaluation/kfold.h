#pragma once
// K-fold splitting exactly as Surprise's KFold(shuffle=True): the rating numbers 0..n-1 are
// shuffled once, then cut into k contiguous slices; the first n mod k slices get one extra
// rating. Fold f tests on its slice and trains on the rest in permutation order (the ratings
// before the slice, then those after it).

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace reco::evaluation {

// How ratings are divided into training and test parts: `folds()` pairs, each test part given by
// its rating numbers, the training part by the others (in the order training visits them).
class Split {
 public:
  virtual ~Split() = default;
  virtual int folds() const = 0;
  virtual std::span<const uint32_t> test_indices(int fold) const = 0;
  virtual std::vector<uint32_t> train_indices(int fold) const = 0;
  // The size of train_indices(fold) without building it: every rating not tested, unless a
  // split leaves some out of both parts.
  virtual size_t train_size(int fold, size_t n_ratings) const {
    return n_ratings - test_indices(fold).size();
  }
};

class KFold final : public Split {
 public:
  // Shuffles with Rng(seed, rng_stream::kFoldShuffle). Throws Error(kInput) when folds < 2 or
  // n_ratings < folds, and when n_ratings does not fit 32-bit rating numbers.
  KFold(size_t n_ratings, int folds, uint64_t seed);

  int folds() const override { return static_cast<int>(bounds_.size()) - 1; }
  const std::vector<uint32_t>& permutation() const { return permutation_; }
  std::span<const uint32_t> test_indices(int fold) const override;
  std::vector<uint32_t> train_indices(int fold) const override;

 private:
  std::vector<uint32_t> permutation_;
  std::vector<size_t> bounds_;  // folds + 1 slice boundaries into permutation_
};

}  // namespace reco::evaluation
