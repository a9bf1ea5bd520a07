#pragma once
// EASE (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data"): a closed-form
// item-item model. With X the binary user x item matrix of the positives (ratings >= min_rating,
// interactions.h):
//   G = X^T X + lambda I,   P = G^-1,   B = I - P diagMat(1 / diag(P))
// i.e. B_ij = -P_ij / P_jj off the diagonal and B_jj = 0, and a user's score of item j is
//   score(u, j) = sum over u's positives i of B_ij        (x_u . B_:j)
// summed in float in ascending item order. The inverse is a blocked symmetric sweep (Gauss-Jordan
// on a positive definite matrix, 64 pivots per block) in double on all threads: n^3 floating
// point operations and 12 n^2 bytes (the n x n double matrix being inverted, then B as float),
// so EASE is for item counts up to about 20,000 (max_memory refuses larger ones before
// allocating). A user the model does not know scores each item by its number of positives; an
// unknown item scores 0. Scores are not ratings.
//
// Stored in artifacts as model type "ease" (docs/ARTIFACT_FORMAT.md).

#include <cstdint>
#include <vector>

#include "algorithms/algorithm.h"
#include "algorithms/model.h"

namespace reco::algorithms {

class EaseModel : public Model {
 public:
  double lambda = 0.0;
  double min_rating = 0.0;
  std::vector<float> weights;              // B: n_items x n_items, row i = from item i
  std::vector<float> popularity;           // positives per item
  std::vector<uint64_t> positive_offsets;  // by user, n_users + 1
  std::vector<uint32_t> positive_items;    // ascending per user

  // score of items [first, first + count) for the items `positives` (ascending), the way
  // estimate() sums them: out[j] = sum over i in positives of B[i][first + j].
  void score_items(const uint32_t* positives, size_t n_positives, uint32_t first, uint32_t count,
                   float* out) const;

  double estimate(int64_t user, int64_t item) const override;
  void score_block(std::span<const uint32_t> users, uint32_t first, uint32_t count, float* out,
                   size_t ld) const override;
  void score_unknown_user(uint32_t first, uint32_t count, float* out) const override;
  void validate() const override;
  const ModelType& type() const override;
};

const ModelType& ease_model_type();

// The bytes EASE needs for n items (12 n^2), and the inverse of a symmetric positive definite
// n x n matrix (row-major; the lower triangle is read, the full inverse returned) by the blocked
// sweep, on `threads` threads. Error(kInput) when the matrix is not positive definite.
uint64_t ease_memory_bytes(uint64_t n_items);
std::vector<double> invert_spd(std::vector<double> a, size_t n, int threads);

EaseModel fit_ease(double lambda, double min_rating, uint64_t max_memory, const TrainingSet& set,
                   RatingScale scale, int threads);

Algorithm ease_algorithm();

}  // namespace reco::algorithms
