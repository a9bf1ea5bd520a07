#pragma once
// Co-clustering (Surprise's CoClustering, George & Merugu 2005): users and items are put into
// n_cltr_u and n_cltr_i clusters, and
//   r^_ui = avg(C_ui) + (mu_u - avg(C_u)) + (mu_i - avg(C_i))
// with mu_u, mu_i the user's and item's mean rating and avg(.) the mean rating of a user cluster,
// an item cluster and their co-cluster (the global mean for an empty one). Clusters start at
// random (the seed); each epoch recomputes the averages, then moves every user to the cluster
// that minimises the squared error of its ratings, then every item likewise (with the users'
// new clusters). An unknown user or item gets the global mean, as in Surprise.
// Surprise 1.1.4's Cython declares the rating `int` in this algorithm, so half stars are truncated
// in every mean, average and error; that makes it worse on half-star data (0.9449 RMSE on
// ml-latest-small against 0.923 with the ratings as they are). integer_ratings=true reproduces it.

#include <cstdint>
#include <vector>

#include "algorithms/algorithm.h"
#include "algorithms/model.h"

namespace reco::algorithms {

class CoClusteringModel : public Model {
 public:
  double global_mean = 0.0;
  uint32_t n_cltr_u = 0, n_cltr_i = 0;
  std::vector<double> user_mean, item_mean;  // per model user / item
  std::vector<uint32_t> cltr_u, cltr_i;      // the cluster of each user / item
  std::vector<double> avg_cltr_u, avg_cltr_i;
  std::vector<double> avg_cocltr;  // n_cltr_u x n_cltr_i, row-major

  double estimate(int64_t user, int64_t item) const override;
  void validate() const override;
  const ModelType& type() const override;
};

// Model type "coclustering": header f64 global mean, u32 n_cltr_u, u32 n_cltr_i, f32 scale min,
// f32 scale max, u32 n_users, u32 n_items, u64 n_rated (40 bytes); arrays: user ids (i64), item
// ids (i64), user means (f64), item means (f64), user clusters (u32), item clusters (u32), user
// cluster averages (f64), item cluster averages (f64), co-cluster averages (f64, row-major),
// rated offsets (u64), rated items (u32).
const ModelType& coclustering_model_type();

Algorithm co_clustering_algorithm();

}  // namespace reco::algorithms
