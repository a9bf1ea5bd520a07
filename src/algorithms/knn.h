#pragma once
// The neighbourhood algorithms of Surprise (knns.py): knn_basic, knn_with_means,
// knn_with_zscore and knn_baseline. With x the user and y the item (user_based=true), or x the
// item and y the user, N the k xs most similar to x among those that rated y (similarity > 0;
// similarity.h), and r the ratings of y by them:
//   knn_basic        r^ = sum sim r / sum sim; fewer than min_k neighbours: the global mean
//   knn_with_means   r^ = mu_x + sum sim (r - mu_x') / sum sim
//   knn_with_zscore  r^ = mu_x + sigma_x sum sim (r - mu_x') / sigma_x' / sum sim
//   knn_baseline     r^ = b_ui + sum sim (r - b_x'y) / sum sim, b = mu + b_u + b_i from Surprise's
//                    baseline estimates (ALS by default, bsl_options' defaults)
// mu_x and sigma_x: the mean and the (population) standard deviation of x's ratings (sigma 0
// replaced by that of all ratings). With fewer than min_k neighbours the three last add nothing
// to their first term. An unknown user or item gets the global mean (knn_baseline: mu plus the
// known biases). The k neighbours are the k largest similarities; ties go to the neighbour
// earlier in y's ratings (training order), as Surprise's heapq.nlargest does.
//
// The model keeps each x's largest similarities (max_neighbors of them, 0: all) rather than the
// full matrix, and the training ratings by y. Keeping every positive similarity gives Surprise's
// predictions exactly (a neighbour of similarity <= 0 never counts there); a cap can leave a
// prediction with fewer than k of its neighbours.

#include <bit>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "algorithms/algorithm.h"
#include "algorithms/model.h"
#include "algorithms/similarity.h"

namespace reco::algorithms {

enum class KnnKind : uint32_t { kBasic = 0, kWithMeans = 1, kWithZScore = 2, kBaseline = 3 };

class KnnModel : public Model {
 public:
  KnnKind kind = KnnKind::kBasic;
  Similarity similarity = Similarity::kMsd;  // how the lists were computed (informational)
  bool user_based = true;
  uint32_t k = 40, min_k = 1;
  double global_mean = 0.0;
  std::vector<double> x_mean;                // knn_with_means, knn_with_zscore
  std::vector<double> x_sigma;               // knn_with_zscore
  std::vector<double> user_bias, item_bias;  // knn_baseline
  // The training ratings by y (items when user-based, users otherwise), in training order.
  std::vector<uint64_t> y_offsets;
  std::vector<uint32_t> y_x;
  std::vector<float> y_rating;
  NeighbourLists neighbours;  // by x

  uint32_t n_x() const { return user_based ? n_users() : n_items(); }
  uint32_t n_y() const { return user_based ? n_items() : n_users(); }

  double estimate(int64_t user, int64_t item) const override;
  void score_block(std::span<const uint32_t> users, uint32_t first, uint32_t count, float* out,
                   size_t ld) const override;
  void validate() const override;
  const ModelType& type() const override;

  // A candidate neighbour of a prediction: its order key (the similarity's bits above, the
  // complement of its position in y's ratings below: positive floats order as their bits, so a
  // larger key comes first in Surprise's order, similarity descending then position), its id
  // and its rating of y.
  struct Candidate {
    uint64_t key;
    uint32_t x2;
    float rating;
    Candidate(float sim, uint32_t pos, uint32_t x2_, float rating_)
        : key(uint64_t{std::bit_cast<uint32_t>(sim)} << 32 | (0xFFFFFFFFu - pos)),
          x2(x2_),
          rating(rating_) {}
    Candidate() = default;
    float sim() const { return std::bit_cast<float>(static_cast<uint32_t>(key >> 32)); }
  };
  // The estimate of (x, y) from its candidates (reordered); y_bias: y's baseline (knn_baseline).
  double aggregate(uint32_t x, double y_bias, std::span<Candidate> candidates) const;
  double y_bias(uint32_t y) const;
  // Fold-in (item-based models only, Error(kUsage) otherwise): the estimates of every item for a
  // user the model does not know, from their ratings (model item, rating; their order is the
  // training order for ties) and, for knn_baseline, their baseline b_u. out.size() = n_items.
  void score_new_user(std::span<const std::pair<uint32_t, double>> ratings, double user_bias,
                      std::span<float> out) const;
  // The fallback for an unknown user or item.
  double fallback(int64_t user, int64_t item) const;

 private:
  // Writes x's similarities (and 1 for x) into a dense row indexed by x2, or zeroes them again.
  void spread_row(uint32_t x, std::vector<float>& row, bool on) const;
  template <typename Lookup>
  void collect(uint32_t y, const Lookup& sim_of, std::vector<Candidate>& out) const;
};

// Model type "knn" (docs/ARTIFACT_FORMAT.md).
const ModelType& knn_model_type();

Algorithm knn_basic_algorithm();
Algorithm knn_with_means_algorithm();
Algorithm knn_with_zscore_algorithm();
Algorithm knn_baseline_algorithm();

}  // namespace reco::algorithms
