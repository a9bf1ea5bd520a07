#pragma once
// Slope One (Surprise's SlopeOne, Lemire & Maclachlan 2005):
//   r^_ui = mu_u + (1 / |R_i(u)|) sum_{j in R_i(u)} dev(i, j)
// with mu_u the user's mean rating, R_i(u) the items u rated that share at least one rater with
// i, and dev(i, j) the mean of r_vi - r_vj over the users v who rated both. Only co-rated pairs
// are stored, per item (sparse rows, item ids ascending; dev(j, i) = -dev(i, j) exactly). An
// unknown user or item gets the global mean, as in Surprise. The sum runs over u's items in
// ascending model id (Surprise: in training order; the same terms). Surprise 1.1.4 declares the
// ratings `int` in its deviation loop, truncating half stars there (not in mu_u);
// integer_ratings=true reproduces it.

#include <cstdint>
#include <span>
#include <vector>

#include "algorithms/algorithm.h"
#include "algorithms/model.h"

namespace reco::algorithms {

class SlopeOneModel : public Model {
 public:
  double global_mean = 0.0;
  std::vector<double> user_mean;
  // Row i: the items co-rated with i (ascending, i itself not stored) and dev(i, j).
  std::vector<uint64_t> dev_offsets;
  std::vector<uint32_t> dev_items;
  std::vector<float> dev;

  double estimate(int64_t user, int64_t item) const override;
  void score_block(std::span<const uint32_t> users, uint32_t first, uint32_t count, float* out,
                   size_t ld) const override;
  void validate() const override;
  // Fold-in: the estimates of every item for a user the model does not know, from their rated
  // model items (ascending, distinct) and the mean of their ratings. out.size() = n_items.
  void score_new_user(std::span<const uint32_t> rated, double mean, std::span<float> out) const;
  const ModelType& type() const override;
};

// Model type "slopeone" (docs/ARTIFACT_FORMAT.md).
const ModelType& slopeone_model_type();

Algorithm slope_one_algorithm();

}  // namespace reco::algorithms
