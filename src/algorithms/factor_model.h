#pragma once
// A trained model. Every algorithm reco ships produces this one shape, so artifacts, top-N,
// prediction and serving handle them alike:
//   estimate(u, i) = [biased] mu + b_u + b_i  +  q_i . p_u
// BaselineOnly is a FactorModel with n_factors = 0. The dot product is float, summed in the
// fixed order of kernels::dot (16 interleaved lanes); the rest is added in double. When the user is
// unknown b_u and p_u are dropped; when the item is unknown b_i and q_i are dropped (PROTOCOLS.md
// §4). predict() clips the estimate to the rating scale.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/ratings.h"

namespace reco::algorithms {

struct FactorModel {
  std::string algorithm;  // "svd" or "baseline"
  bool biased = true;
  double global_mean = 0.0;
  RatingScale scale;
  IdIndex users;                 // users seen in training (dense index = row of user_factors)
  IdIndex items;                 // items seen in training
  std::vector<float> user_bias;  // n_users (all zero when !biased)
  std::vector<float> item_bias;  // n_items
  uint32_t n_factors = 0;
  std::vector<float> user_factors;  // n_users x n_factors, row-major
  std::vector<float> item_factors;  // n_items x n_factors, row-major
  // Items each user rated in training (CSR by dense user; dense item ids ascending). Top-N
  // excludes them; prediction does not need them.
  std::vector<uint64_t> rated_offsets;  // n_users + 1
  std::vector<uint32_t> rated_items;

  uint32_t n_users() const { return users.size(); }
  uint32_t n_items() const { return items.size(); }
  std::span<const float> user_vector(uint32_t u) const {
    return {user_factors.data() + size_t{u} * n_factors, n_factors};
  }
  std::span<const float> item_vector(uint32_t i) const {
    return {item_factors.data() + size_t{i} * n_factors, n_factors};
  }
  std::span<const uint32_t> rated_by(uint32_t u) const {
    return {rated_items.data() + rated_offsets[u], rated_items.data() + rated_offsets[u + 1]};
  }

  // Unclipped estimate from dense indices; -1 means unknown.
  double estimate(int64_t user, int64_t item) const;
  double clip(double estimate) const;
  // Clipped prediction for external ids (unknown ids fall back as described above).
  double predict(int64_t raw_user, int64_t raw_item) const {
    return clip(estimate(users.find(raw_user), items.find(raw_item)));
  }
  // Checks internal consistency (sizes, finite values); throws Error(kCorrupt) naming the field.
  void validate() const;
};

}  // namespace reco::algorithms
