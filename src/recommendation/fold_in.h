#pragma once
// New users without retraining ("fold-in"): a user's biases and factors solved from their
// ratings with the item side of a trained model held fixed, then their top-k.
//
// For a factor model (svd, and baseline, whose models have no factors) the user's unknowns
// x = (b_u, p_u) minimise the model's own training objective restricted to that user:
//     sum over the given ratings (r_ui - mu - b_i - b_u - q_i . p_u)^2 + reg_bu b_u^2 + reg_pu
//     |p_u|^2
// (unbiased SVD: r_ui - q_i . p_u and no bias), a ridge regression solved exactly (Cholesky of a
// (1 + n_factors)-square system). For baseline this is its ALS user step, b_u = sum(r - mu - b_i)
// / (reg_u + n). The ranking and explicit ALS models solve their own user step exactly:
//   als   (sum of y_i y_i^T + reg_param n I) x = sum of r_ui y_i  (n: the known ratings)
//   ials  (Y^T Y + regularization I + sum of (c_ui - 1) y_i y_i^T) x = sum of c_ui y_i over the
//         ratings >= min_rating, c_ui = 1 + alpha w_ui (ials.h), by Cholesky
//   ease  no unknowns: score(j) = sum of B_ij over the ratings >= min_rating (ease.h)
// bpr has no closed-form user step and no fold-in. Items the model never saw are ignored and
// counted; with no known item (for ials and ease: no known positive) the user is the model's
// unknown user (its fallback estimate ranks the items).
//
// Neighbourhood models score the new user directly from the ratings: an item-based knn model
// (knn_basic, knn_with_means, knn_with_zscore, knn_baseline with user_based=false) takes the
// user's known rated items as the neighbours of every prediction, exactly as for a training
// user with those ratings (knn_baseline: b_u = sum(r - mu - b_i) / (reg_u + n), BaselineOnly's
// ALS user step); slope_one uses the mean of the given ratings and the deviations of the given
// items. User-based knn models refuse (Error(kUsage)): the new user's similarities to the
// training users are not in the model.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "algorithms/model.h"
#include "recommendation/top_n.h"

namespace reco::recommendation {

struct FoldInRegularization {
  enum class Method { kRidge, kAls, kIals, kEase };
  double bias = 0.0;     // reg_bu (svd) or reg_u (baseline ALS) / reg (baseline SGD)
  double factors = 0.0;  // reg_pu (svd), reg_param (als), regularization (ials)
  double alpha = 0.0;    // ials: confidence
  bool rating_confidence = false;
  double min_rating = 0.0;         // ials (ease keeps its own in the model)
  Method method = Method::kRidge;  // svd and baseline: the ridge regression above
  // From a model's metadata "hyperparameters" (its algorithm's names; Surprise's defaults when
  // absent). Error(kUsage) for an algorithm without fold-in.
  static FoldInRegularization from_hyperparameters(const std::string& algorithm,
                                                   const nlohmann::json& hyperparameters);
};

struct FoldInResult {
  std::vector<Scored> top;           // best first; `item` is the model's dense index
  size_t used = 0;                   // ratings of items the model knows
  size_t ignored = 0;                // ratings of items it does not
  bool fallback = false;             // no known item: ranked as an unknown user
  double user_bias = 0.0;            // the solved b_u (0 without a bias)
  std::vector<double> user_factors;  // the solved p_u (empty for a fallback or no factors)
};

// The ratings of a JSON request: [[item, rating], ...], {"item": rating, ...} or
// [{"item": i, "rating": r}, ...]; item ids as integers, integral numbers or their text.
// Error(kUsage) naming the entry that is not one of these.
std::vector<std::pair<int64_t, double>> ratings_from_json(const nlohmann::json& ratings);

// ratings: (raw item id, rating) pairs; every rating must be finite, and an item may appear
// once (Error(kUsage) naming it otherwise). The given items are never recommended back.
FoldInResult fold_in(const algorithms::Model& model, const FoldInRegularization& reg,
                     const std::vector<std::pair<int64_t, double>>& ratings, size_t k);

// {"recommendations": [{"rank", "item", "score" (unclipped), "prediction" (clipped)}], "used",
// "ignored", "fallback", "note" (what the caller should know, or null)}
nlohmann::json fold_in_json(const algorithms::Model& model, const FoldInResult& result);

}  // namespace reco::recommendation
