#pragma once
// Small deterministic data sets for the algorithm tests.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "algorithms/factor_model.h"
#include "algorithms/train.h"
#include "core/random.h"
#include "core/ratings.h"

namespace reco::testing {

// algorithms::fit() for the algorithms that make factor models, as a FactorModel.
inline algorithms::FactorModel fit_factor(std::string_view algorithm,
                                          const algorithms::Params& params, const Dataset& data,
                                          std::span<const uint32_t> rating_indices,
                                          RatingScale scale, uint64_t seed,
                                          const algorithms::EpochProgress& progress = {}) {
  return algorithms::as_factor_model(
      *algorithms::fit(algorithm, params, data, rating_indices, scale, seed, progress));
}

struct Triple {
  int64_t user;
  int64_t item;
  float rating;
};

inline Dataset dataset_of(const std::vector<Triple>& triples) {
  RawRatings raw;
  for (const auto& t : triples) raw.push_back(t.user, t.item, t.rating);
  return Dataset::from_raw(raw);
}

// Each (user, item) pair rated with probability `density`, ratings in half steps 0.5..5 loosely
// following a user and an item effect; ids are scattered so dense and raw orders differ.
inline Dataset random_dataset(uint32_t n_users, uint32_t n_items, double density, uint64_t seed) {
  Rng rng(seed, 99);
  std::vector<double> ue(n_users), ie(n_items);
  for (auto& e : ue) e = rng.normal(0.0, 0.7);
  for (auto& e : ie) e = rng.normal(0.0, 0.7);
  RawRatings raw;
  for (uint32_t u = 0; u < n_users; ++u) {
    for (uint32_t i = 0; i < n_items; ++i) {
      if (rng.uniform() >= density) continue;
      double r = 3.5 + ue[u] + ie[i] + rng.normal(0.0, 0.5);
      r = std::round(r * 2.0) / 2.0;
      r = std::min(5.0, std::max(0.5, r));
      raw.push_back(1000 + static_cast<int64_t>(u) * 7919 % 100003, 50 + int64_t{i} * 31,
                    static_cast<float>(r));
    }
  }
  // Shuffle the rows so ratings of a user are not contiguous.
  std::vector<size_t> order(raw.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  rng.shuffle(order);
  RawRatings shuffled;
  for (size_t k : order) shuffled.push_back(raw.users[k], raw.items[k], raw.ratings[k]);
  return Dataset::from_raw(shuffled);
}

}  // namespace reco::testing
