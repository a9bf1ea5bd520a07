#pragma once
// The ways an evaluation divides the ratings (kfold.h has the interface and Surprise's KFold):
//   kfold       k shuffled folds, each tested once (Surprise's KFold; the default);
//   stratified  one split per user, as Microsoft Recommenders' python_stratified_split: each
//               user's ratings are shuffled (seeded) and the last round(test_ratio x n) of them
//               held out, so every user with two or more ratings is in both parts; the ranking
//               benchmarks (75/25) use it.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/ratings.h"
#include "evaluation/kfold.h"

namespace reco::evaluation {

struct SplitSpec {
  enum class Kind { kKFold, kStratified };
  Kind kind = Kind::kKFold;
  int folds = 5;             // kfold
  double test_ratio = 0.25;  // stratified: share of each user's ratings held out, in (0, 1)

  static Kind parse_kind(std::string_view name);  // "kfold" | "stratified"; Error(kUsage) else
  static const char* name(Kind kind);
};

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

std::unique_ptr<Split> make_split(const SplitSpec& spec, const Dataset& data, uint64_t seed);

}  // namespace reco::evaluation
