#pragma once
// Blend: linear stacking of several algorithms. Fitting on a training list:
//  1. the list is cut into `blend_folds` shuffled folds (seeded); each base algorithm is fit on
//     all folds but one and predicts the held-out one, so every training rating gets one
//     out-of-fold prediction per base, made by a model that never saw it;
//  2. the weights w_0 (an intercept) and w_1..w_B solve the ridge least squares
//       min  sum_r (r - w_0 - sum_b w_b p_b(r))^2 + reg * sum_{b>=1} w_b^2
//     over those predictions (p_b clipped to the scale, as each base would answer);
//  3. each base is fit again on the whole list; the blend predicts
//       w_0 + sum_b w_b * clip(base_b(u, i)),
//     clipped to the scale. Unknown users and items go through each base's own fallback.
// The bases are named by `algorithms` (default: svd, svdpp and item-based knn_baseline with
// pearson_baseline, the three best single models on MovieLens), e.g. "svd,svdpp,baseline", each
// optionally with its
// hyperparameters in parentheses, "svd(n_factors=50;reg_all=0.05)" (';' or spaces between them).
// Every fit of a base uses the blend's seed, so a base is trained exactly as it would be alone.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "algorithms/algorithm.h"
#include "algorithms/model.h"
#include "algorithms/params.h"

namespace reco::algorithms {

inline constexpr size_t kMaxBlendBases = 8;

class BlendModel : public Model {
 public:
  std::vector<double> weights;  // intercept, then one per base
  std::vector<std::unique_ptr<Model>> bases;

  double estimate(int64_t user, int64_t item) const override;
  void score_block(std::span<const uint32_t> users, uint32_t first, uint32_t count, float* out,
                   size_t ld) const override;
  void score_unknown_user(uint32_t first, uint32_t count, float* out) const override;
  void validate() const override;
  const ModelType& type() const override;
};

// The base algorithms of an `algorithms` value, each with its validated parameters. Error(kUsage)
// naming the problem: an unknown algorithm (listing the valid ones), a blend inside a blend,
// fewer than two or more than kMaxBlendBases bases, a malformed parameter list, or a parameter
// the base does not have.
std::vector<Params> parse_blend_bases(std::string_view text);

// The stacking steps, exposed for tests: the fold (0..folds-1) of each of n list positions
// (contiguous slices of a permutation shuffled with the seed; slice sizes differ by at most one),
// and the ridge weights of n rows of nb out-of-fold predictions (row-major) against the ratings:
// intercept first. Error(kInput) when the system is singular (collinear bases and reg 0).
std::vector<uint8_t> blend_fold_of(size_t n, size_t folds, uint64_t seed);
std::vector<double> stack_weights(std::span<const double> predictions,
                                  std::span<const float> ratings, size_t nb, double reg);

// Model type "blend": header u32 n_bases, u32 reserved (0), f32 scale min, f32 scale max, u32
// n_users, u32 n_items, u64 n_rated, then kMaxBlendBases u64 byte sizes of the nested bases (96
// bytes); arrays: weights (f64, n_bases + 1), user ids (i64), item ids (i64), rated offsets (u64,
// n_users + 1), rated items (u32), then each base as a nested model (docs/ARTIFACT_FORMAT.md).
const ModelType& blend_model_type();

Algorithm blend_algorithm();

}  // namespace reco::algorithms
