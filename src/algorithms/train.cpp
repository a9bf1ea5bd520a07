#include "algorithms/train.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include <fmt/format.h>

#include "core/error.h"

namespace reco::algorithms {
namespace {

const Algorithm& checked_algorithm(std::string_view algorithm, const Params& params,
                                   const char* what) {
  const Algorithm& a = find_algorithm(algorithm);  // rejects unknown names
  if (params.algorithm() != a.name) {
    throw Error(ErrorKind::kUsage, fmt::format("parameters of algorithm {} given to {} {}",
                                               params.algorithm(), what, a.name));
  }
  return a;
}

}  // namespace

std::unique_ptr<Model> fit(std::string_view algorithm, const Params& params, const Dataset& data,
                           std::span<const uint32_t> rating_indices, RatingScale scale,
                           uint64_t seed, const EpochProgress& progress, const FoldShared* shared,
                           int threads) {
  const Algorithm& a = checked_algorithm(algorithm, params, "train");
  if (!(scale.min < scale.max)) {
    throw Error(ErrorKind::kInput,
                fmt::format("rating scale [{}, {}] is empty", scale.min, scale.max));
  }
  const TrainingSet set = make_training_set(data, rating_indices);
  std::unique_ptr<Model> model =
      a.fit(FitInput{params, set, scale, seed, progress, shared, threads});
  model->ranking_scores = !a.predicts_ratings;
  return model;
}

int max_fit_threads(std::string_view algorithm, const Params& params, size_t n_ratings) {
  const Algorithm& a = checked_algorithm(algorithm, params, "train");
  return a.max_fit_threads ? std::max(1, a.max_fit_threads(params, n_ratings)) : 1;
}

std::unique_ptr<FoldShared> prepare_shared(std::string_view algorithm, const Params& params,
                                           const Dataset& data, uint64_t seed, int threads) {
  const Algorithm& a = checked_algorithm(algorithm, params, "cross-validate");
  if (!a.prepare_shared) return nullptr;
  return a.prepare_shared(data, params, seed, threads);
}

std::vector<uint32_t> all_rating_indices(const Dataset& data) {
  if (data.size() > std::numeric_limits<uint32_t>::max()) {
    throw Error(ErrorKind::kInput, fmt::format("{} ratings is more than the supported maximum {}",
                                               data.size(), std::numeric_limits<uint32_t>::max()));
  }
  std::vector<uint32_t> indices(data.size());
  std::iota(indices.begin(), indices.end(), 0u);
  return indices;
}

}  // namespace reco::algorithms
