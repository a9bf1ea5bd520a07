#pragma once
// The factor model, the shape SVD and BaselineOnly produce:
//   estimate(u, i) = [biased] mu + b_u + b_i  +  q_i . p_u
// BaselineOnly is a FactorModel with n_factors = 0. The dot product is float, summed in the
// fixed order of kernels::dot (16 interleaved lanes); the rest is added in double. When the user is
// unknown b_u and p_u are dropped; when the item is unknown b_i and q_i are dropped, as Surprise
// does (docs/ALGORITHMS.md). predict() clips the estimate to the rating scale.
//
// Stored in artifacts as model type "factor" (docs/ARTIFACT_FORMAT.md).

#include <cstdint>
#include <span>
#include <vector>

#include "algorithms/model.h"

namespace reco::algorithms {

class FactorModel : public Model {
 public:
  bool biased = true;
  double global_mean = 0.0;
  std::vector<float> user_bias;  // n_users (all zero when !biased)
  std::vector<float> item_bias;  // n_items
  uint32_t n_factors = 0;
  std::vector<float> user_factors;  // n_users x n_factors, row-major
  std::vector<float> item_factors;  // n_items x n_factors, row-major

  std::span<const float> user_vector(uint32_t u) const {
    return {user_factors.data() + size_t{u} * n_factors, n_factors};
  }
  std::span<const float> item_vector(uint32_t i) const {
    return {item_factors.data() + size_t{i} * n_factors, n_factors};
  }

  double estimate(int64_t user, int64_t item) const override;
  // Blocked: kernels::dot_tile for the dot products, then the biases in double as estimate()
  // adds them, so each score is (float)estimate(u, i) bit for bit.
  void score_block(std::span<const uint32_t> users, uint32_t first, uint32_t count, float* out,
                   size_t ld) const override;
  void validate() const override;
  const ModelType& type() const override;
};

// The "factor" model type: header and arrays as in docs/ARTIFACT_FORMAT.md.
const ModelType& factor_model_type();

// The model as a FactorModel; Error(kInternal) when it is of another type.
const FactorModel& as_factor_model(const Model& model);

}  // namespace reco::algorithms
