#pragma once
// The algorithm registry. Each algorithm is one file pair in this folder that describes itself
// as an Algorithm (name, hyperparameter table, fit, what the fits of one cross-validation can
// share, the model type it produces) and one line in algorithms/builtin_list.h. Training,
// cross-validation, `--list-params`, the option parsers and the artifact reader look algorithms
// up here, so adding one touches no other file. register_algorithm() adds one at run time
// (tests do).

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "algorithms/model.h"
#include "algorithms/params.h"
#include "algorithms/training_set.h"
#include "core/options.h"
#include "core/ratings.h"

namespace reco::algorithms {

// What the fits of one cross-validation and the refit share, made once by
// Algorithm::prepare_shared (e.g. SVD's initial random factors, the same for every fold with one
// seed). Algorithms define subclasses.
class FoldShared {
 public:
  virtual ~FoldShared() = default;
};

struct FitInput {
  const Params& params;           // of this algorithm, validated
  const TrainingSet& set;         // the ratings to train on (training_set.h), never empty
  RatingScale scale;              // non-empty
  uint64_t seed;                  // every random choice derives from it
  const EpochProgress& progress;  // may be empty
  const FoldShared* shared;       // from prepare_shared for the same data, params and seed, or null
  int threads = 0;                // threads the fit may use (0: all cores); see max_fit_threads
};

struct Algorithm {
  std::string name;  // [a-z0-9_]+, the value of --algo and of the "algorithm" option
  std::string doc;   // one line
  OptionTable params;
  const ModelType* model_type = nullptr;  // the type of the models fit() returns
  // False for ranking models (ials, bpr, ease): their estimate is a score that orders items,
  // not a rating, so it is never clipped to the rating scale and RMSE/MAE do not apply.
  bool predicts_ratings = true;
  // Optional: data shared by every fit of one cross-validation (threads: 0 means all cores).
  std::function<std::unique_ptr<FoldShared>(const Dataset& data, const Params& params,
                                            uint64_t seed, int threads)>
      prepare_shared;
  // Optional: the most threads a fit on n_ratings training ratings can use (absent: 1). Such a
  // fit must give the same model for any FitInput::threads: cross-validation runs folds on one
  // thread each or splits one over several, whichever finishes sooner (evaluation/fit_plan.h).
  std::function<int(const Params& params, size_t n_ratings)> max_fit_threads;
  // Trains on input.set. Throws Error(kInput) when training fails on the data (e.g. diverges).
  std::function<std::unique_ptr<Model>(const FitInput& input)> fit;
};

// Adds an algorithm; Error(kInternal) when the name is taken or a field is missing.
void register_algorithm(Algorithm algorithm);
// Error(kUsage) listing the valid names when there is no such algorithm.
const Algorithm& find_algorithm(std::string_view name);
const Algorithm* find_algorithm_or_null(std::string_view name);
// Registration order: the built-in ones first.
std::vector<const Algorithm*> all_algorithms();
std::vector<std::string> algorithm_names();

}  // namespace reco::algorithms
