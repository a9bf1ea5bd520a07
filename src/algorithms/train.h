#pragma once
// One entry point for every algorithm: training, cross-validation folds and the full refit all
// go through fit(), which looks the algorithm up in the registry (algorithm.h), so they train
// identically.

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "algorithms/algorithm.h"
#include "algorithms/model.h"
#include "algorithms/params.h"
#include "algorithms/training_set.h"
#include "core/ratings.h"

namespace reco::algorithms {

// Trains `algorithm` on the ratings of `data` selected by rating_indices (in that order: a
// fold's training list or 0..n-1). The model's users and items are those of the selected
// ratings. Throws Error(kUsage) for an unknown algorithm or params of another algorithm,
// Error(kInput) for an empty selection or when training diverges. `shared`, when given, was made
// by prepare_shared() for the same data, params and seed. threads: how many the fit may use
// (0: all cores; an algorithm uses at most max_fit_threads(), and its model does not depend on
// the number).
std::unique_ptr<Model> fit(std::string_view algorithm, const Params& params, const Dataset& data,
                           std::span<const uint32_t> rating_indices, RatingScale scale,
                           uint64_t seed, const EpochProgress& progress = {},
                           const FoldShared* shared = nullptr, int threads = 0);

// The most threads a fit of `algorithm` on n_ratings training ratings can use (>= 1).
int max_fit_threads(std::string_view algorithm, const Params& params, size_t n_ratings);

// What the fits of one cross-validation (and the refit) on `data` share, or null when the
// algorithm shares nothing. threads: 0 means all cores.
std::unique_ptr<FoldShared> prepare_shared(std::string_view algorithm, const Params& params,
                                           const Dataset& data, uint64_t seed, int threads);

// All ratings of data, in list order.
std::vector<uint32_t> all_rating_indices(const Dataset& data);

}  // namespace reco::algorithms
