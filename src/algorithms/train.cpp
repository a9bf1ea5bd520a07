#include "algorithms/train.h"

#include <limits>
#include <numeric>

#include <fmt/format.h>

#include "algorithms/baseline.h"
#include "algorithms/svd.h"
#include "core/error.h"

namespace reco::algorithms {

FactorModel fit(std::string_view algorithm, const Params& params, const Dataset& data,
                std::span<const uint32_t> rating_indices, RatingScale scale, uint64_t seed,
                const EpochProgress& progress, const InitialFactors* init) {
  const AlgorithmSpec& spec = algorithm_spec(algorithm);  // rejects unknown names
  if (params.algorithm() != spec.name) {
    throw Error(ErrorKind::kUsage, fmt::format("parameters of algorithm {} given to train {}",
                                               params.algorithm(), spec.name));
  }
  if (!(scale.min < scale.max)) {
    throw Error(ErrorKind::kInput,
                fmt::format("rating scale [{}, {}] is empty", scale.min, scale.max));
  }
  const TrainingSet set = make_training_set(data, rating_indices);
  if (spec.name == "svd")
    return fit_svd(SvdOptions::from_params(params), set, scale, seed, progress, init);
  if (spec.name == "baseline") {
    return fit_baseline(BaselineOptions::from_params(params), set, scale, progress);
  }
  throw Error(ErrorKind::kInternal, "algorithm " + spec.name + " has parameters but no trainer");
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
