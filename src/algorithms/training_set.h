#pragma once
// The training ratings of one fit, re-indexed the way Surprise's Trainset does it, so SGD visits
// ratings in the reference order:
//  - the model's users and items are those present in the training ratings, with dense model
//    indices in order of first appearance in the training list;
//  - ratings grouped by model user (users in index order), each group in list order: this is
//    Surprise's all_ratings() order.
// It refers to the Dataset and the index list it was built from; both must outlive it.

#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "algorithms/factor_model.h"
#include "core/ratings.h"

namespace reco::algorithms {

// Stream numbers for reco::Rng: one per kind of random choice, so one user-visible seed drives
// independent sequences.
namespace rng_stream {
inline constexpr uint64_t kFactorInit = 1;   // initial p_u, q_i
inline constexpr uint64_t kFoldShuffle = 2;  // cross-validation permutation
inline constexpr uint64_t kSampling = 3;     // training samples (bpr's triples)
}  // namespace rng_stream

// Called after each finished epoch (1-based) with the root mean squared error of the epoch's
// training steps (each error as the step saw it, before its update), or NaN when the algorithm
// does not measure one. May be empty.
using EpochProgress = std::function<void(int epoch, int n_epochs, double train_rmse)>;

struct TrainingSet {
  static constexpr uint32_t kAbsent = std::numeric_limits<uint32_t>::max();

  const Dataset* dataset = nullptr;
  std::span<const uint32_t> indices;  // rating numbers in the Dataset, in list order
  std::vector<uint32_t> model_user;   // Dataset user -> model user, or kAbsent
  std::vector<uint32_t> model_item;   // Dataset item -> model item, or kAbsent
  std::vector<int64_t> user_raw;      // model user -> external id
  std::vector<int64_t> item_raw;      // model item -> external id
  // Ratings grouped by model user, each group in list order (CSR).
  std::vector<uint64_t> user_offsets;  // n_users + 1
  std::vector<uint32_t> item;          // model item of each grouped rating
  std::vector<float> rating;
  double global_mean = 0.0;  // mean of the training ratings

  uint32_t n_users() const { return static_cast<uint32_t>(user_raw.size()); }
  uint32_t n_items() const { return static_cast<uint32_t>(item_raw.size()); }
  size_t size() const { return rating.size(); }
};

// Throws Error(kInput) when rating_indices is empty and Error(kInternal) when an index is out of
// range for the Dataset.
TrainingSet make_training_set(const Dataset& data, std::span<const uint32_t> rating_indices);

// Fills what every model has: algorithm, scale, the id maps of the training users and items and
// the rated-items index (items ascending per user).
void fill_model_base(Model& model, const TrainingSet& set, std::string algorithm,
                     RatingScale scale);
// A FactorModel with the base filled and the global mean set; parameter vectors left empty.
FactorModel make_model_shell(const TrainingSet& set, std::string algorithm, RatingScale scale);

}  // namespace reco::algorithms
