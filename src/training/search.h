#pragma once
// Hyperparameter search (Surprise's GridSearchCV / RandomizedSearchCV): every candidate setting
// is cross-validated with the job's split and seed (the same folds for all), the one with the
// best mean of the chosen metric wins, and the job then trains and publishes it as usual. The
// table of every tried setting is kept with the model version.
//
// Options JSON: "search": {"method": "grid" | "random",
//                          "params": {NAME: [v1, v2, ...] | {"min": a, "max": b, "log": bool}},
//                          "trials": N (random; default 10), "metric": "rmse" (default)}
// grid takes the product of the lists (a range is refused there); random draws `trials`
// settings with the job's seed: a list uniformly, a range uniformly (log-uniformly with
// "log": true; integers rounded).

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace reco::training {

struct SearchSpec {
  enum class Method { kGrid, kRandom };
  struct Space {
    std::string name;
    std::vector<nlohmann::json> values;  // a list (scalars), or empty for a range
    double min = 0, max = 0;
    bool log = false;
  };
  Method method = Method::kGrid;
  std::vector<Space> params;
  int trials = 10;
  std::string metric = "rmse";

  // Error(kUsage) naming what is wrong: unknown keys, an empty space, a range in a grid, a bad
  // range, too many settings (saying how many fits they would take).
  static SearchSpec from_json(const nlohmann::json& j);
  nlohmann::json to_json() const;
};

// Lower is better for rmse, mae and obscurity; higher for the ranking metrics.
bool lower_is_better(const std::string& metric);

// The settings to try, each a list of (name, value as text) for algorithms::parse_params.
// `folds` only sizes the message when there are too many (at most 1000 settings).
std::vector<std::vector<std::pair<std::string, std::string>>> search_candidates(
    const SearchSpec& spec, const std::string& algorithm, uint64_t seed, int folds);

}  // namespace reco::training
