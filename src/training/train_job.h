#pragma once
// The training job behind `reco train` and the SQL function train_and_get_recommendations:
//   read (user, item, rating) from a warehouse table -> k-fold cross-validation report ->
//   refit on all ratings -> top-k unrated items for every user written to an output table
//   (created or replaced in one transaction) -> a new versioned model artifact.
// Every step that writes is all-or-nothing: a failed job leaves the output table and the model
// registry as they were.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/home.h"
#include "storage/warehouse.h"

namespace reco::training {

struct TrainRequest {
  std::string input_table;
  std::string output_table;  // empty: no output table is written
  std::string algorithm = "svd";
  // Algorithm hyperparameters plus the job options listed in job_option_names().
  std::vector<std::pair<std::string, std::string>> settings;
  int folds = 5;  // 0 skips cross-validation
  uint64_t seed = 42;
  std::string model_name;  // empty: the input table's name
  int threads = 0;         // 0: all cores
  std::string job_id;      // empty: one is made from the model name, version and time
};

// Options accepted alongside hyperparameters: rating_min, rating_max (the rating scale; default:
// observed in the data), user_column, item_column, rating_column (default: USERID/USER_ID/USER,
// MOVIEID/MOVIE_ID/ITEMID/ITEM_ID/ITEM, RATING, case-insensitive), top_k (default 10).
const std::vector<std::string>& job_option_names();

struct TrainResult {
  std::string job_id;
  std::string model_name;
  int version = 0;
  std::string artifact_path;
  std::string artifact_uri;
  std::string cv_table;    // Surprise layout; empty when folds == 0
  nlohmann::json summary;  // the JSON object returned by the SQL function
};

// Receives the job's log: progress milestones, and the report (the CV table and what was
// written), in order. May be empty.
enum class LogKind { kProgress, kReport };
using LogSink = std::function<void(LogKind kind, const std::string& text)>;

TrainResult run_training(storage::Warehouse& warehouse, const Home& home,
                         const TrainRequest& request, const LogSink& log);

// Parses the optional third argument of train_and_get_recommendations, a JSON object such as
// {"algorithm":"svd","folds":5,"seed":7,"model":"m","params":{"n_factors":50}}, into request.
void apply_json_options(const std::string& json_text, TrainRequest& request);

}  // namespace reco::training
