#pragma once
// NormalPredictor (Surprise's): a rating drawn from the normal distribution of the training
// ratings, N(mu, sigma^2) with mu their mean and sigma their (maximum likelihood) standard
// deviation, clipped to the scale: the floor any real model must beat. Surprise draws a new
// value at every call; reco draws one per (user, item) pair from the model's seed (a hash of the
// seed and both ids, then Box-Muller), so a prediction, a top-N list and a CV score are
// reproducible. Unknown users share one draw per item.

#include <cstdint>

#include "algorithms/algorithm.h"
#include "algorithms/model.h"

namespace reco::algorithms {

class NormalModel : public Model {
 public:
  double mu = 0.0;
  double sigma = 0.0;
  uint64_t seed = 0;

  double estimate(int64_t user, int64_t item) const override;
  void validate() const override;
  const ModelType& type() const override;
};

// Model type "normal": header f64 mu, f64 sigma, u64 seed, f32 scale min, f32 scale max,
// u32 n_users, u32 n_items, u64 n_rated (48 bytes); arrays: user ids (i64), item ids (i64),
// rated offsets (u64, n_users + 1), rated items (u32).
const ModelType& normal_model_type();

Algorithm normal_predictor_algorithm();

}  // namespace reco::algorithms
