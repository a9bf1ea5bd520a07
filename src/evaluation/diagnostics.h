#pragma once
// What a cross-validation saw besides its means, for the plots of `reco serve`'s console and
// `reco models show`: how the held-out ratings and the predictions made for them spread over the
// rating scale. (The learning curves, one training RMSE per epoch, are FoldResult::epoch_rmse.)

#include <cstdint>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/ratings.h"

namespace reco::evaluation {

// Counts of held-out ratings and of the (clipped) predictions made for them, in equal bins over
// the rating scale. The bins are centred on the scale's half steps (min, min + 0.5, ..., max)
// when the scale spans at most 40 of them, else 20 bins of equal width; a value goes to the
// nearest centre.
struct RatingHistogram {
  double first = 0.0;  // centre of the first bin
  double width = 0.0;
  std::vector<uint64_t> actual;
  std::vector<uint64_t> predicted;

  static RatingHistogram for_scale(RatingScale scale);
  void add(double actual_rating, double prediction);
  // Adds `other`'s counts (same bins), or takes them when this one has none.
  void merge(const RatingHistogram& other);
  // {"bins": [centres], "actual": [...], "predicted": [...]}
  nlohmann::json to_json() const;

 private:
  size_t bin(double value) const;
};

}  // namespace reco::evaluation
