#pragma once
// One entry point for every algorithm: training, cross-validation folds and the full refit all
// go through fit(), so they train identically.

#include <cstdint>
#include <span>
#include <string_view>

#include "algorithms/factor_model.h"
#include "algorithms/initial_factors.h"
#include "algorithms/params.h"
#include "algorithms/training_set.h"
#include "core/ratings.h"

namespace reco::algorithms {

// Trains `algorithm` on the ratings of `data` selected by rating_indices (in that order: a
// fold's training list or 0..n-1). The model's users and items are those of the selected
// ratings. Throws Error(kUsage) for an unknown algorithm or params of another algorithm,
// Error(kInput) for an empty selection or when training diverges. `init` optionally supplies
// the initial factor draws for `seed` (see InitialFactors; ignored by algorithms without them).
FactorModel fit(std::string_view algorithm, const Params& params, const Dataset& data,
                std::span<const uint32_t> rating_indices, RatingScale scale, uint64_t seed,
                const EpochProgress& progress = {}, const InitialFactors* init = nullptr);

// All ratings of data, in list order.
std::vector<uint32_t> all_rating_indices(const Dataset& data);

}  // namespace reco::algorithms
