#pragma once
// The training job behind `reco train`, the SQL function train_and_get_recommendations and
// POST /train, as a sequence of steps (steps.h):
//   read (user, item, rating) from a warehouse table -> evaluate: k-fold cross-validation ->
//   refit on all ratings -> recommend: top-k unrated items for every user -> publish: a new
//   versioned model artifact and the output table (created or replaced in one transaction).
// Every step that writes is all-or-nothing: a failed job leaves the output table and the model
// registry as they were.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/home.h"
#include "core/progress.h"
#include "storage/warehouse.h"
#include "training/job_spec.h"

namespace reco::training {

struct TrainRequest {
  JobSpec spec;
  int threads = 0;     // 0: all cores (results do not depend on it)
  std::string job_id;  // empty: one is made from the model name, version and time
  // Cross-validation only (run_evaluation): nothing is refitted, published or written.
  bool evaluate_only = false;
  // Where the job is and whether to stop (core/progress.h); null: not reported, never cancelled.
  // A cancelled job stops within an epoch or a block of users and writes nothing.
  Progress* progress = nullptr;
};

// Wall time of each step, in seconds. With cross-validation the fit on every rating runs beside
// the folds: cv is the wall time of both, fit that of the fit alone (they overlap).
struct StepTimings {
  double read = 0, search = 0, cv = 0, fit = 0, top_n = 0, write = 0, total = 0;
};

// What a finished job reports (the JSON object the SQL function returns; see to_json()).
struct TrainSummary {
  std::string job_id;
  std::string model_name;
  int version = 0;
  std::string artifact_uri;
  std::string algorithm;
  std::string input_table;
  std::optional<std::string> output_table;
  size_t output_rows = 0;
  size_t ratings = 0, users = 0, items = 0;
  int64_t seed = 0;
  int folds = 0;
  int top_k = 0;
  std::optional<double> rmse, mae;  // cross-validation means; empty when folds == 0
  // The ranking metrics' cross-validation means, by JSON key ("precision@10", ...).
  std::vector<std::pair<std::string, double>> ranking;
  // The hyperparameter search (steps.h SearchOutcome::record) when the job ran one, else null.
  nlohmann::json search;
  StepTimings timings;

  // {"job", "model", "version", "artifact_uri", "algorithm", "input_table", "output_table",
  //  "output_rows", "ratings", "users", "items", "seed", "folds", "top_k", "rmse", "mae",
  //  "timings": {"read_s", "search_s" (with a search), "cv_s" (when folds > 0; after a search the
  //  winner's cross-validation, run during it), "fit_s", "top_n_s", "write_s", "total_s"}}
  nlohmann::json to_json() const;
};

struct TrainResult {
  TrainSummary summary;
  std::string artifact_path;
  std::string cv_table;      // Surprise layout; empty when folds == 0
  std::string search_table;  // the settings a search tried (steps.h), empty without one
  // run_evaluation's report, a JSON object (empty for training): {"job", "algorithm",
  // "input_table", "ratings", "users", "items", "seed", "folds", "rmse", "mae",
  // "cv": per-fold metrics, "timings": {"read_s", "cv_s", "total_s"}}
  std::string evaluation;
  // What the job record keeps as its result: the evaluation, or summary.to_json().
  std::string result_json() const;
};

// Receives the job's log: progress milestones, and the report (the CV table and what was
// written), in order. May be empty.
enum class LogKind { kProgress, kReport };
using LogSink = std::function<void(LogKind kind, const std::string& text)>;

TrainResult run_training(storage::Warehouse& warehouse, const Home& home,
                         const TrainRequest& request, const LogSink& log);
// The same cross-validation as training (same options, same report) and nothing else: no refit,
// no model version, no output table (reco evaluate, evaluate_model, POST /evaluate). Needs
// folds >= 2 and no output table (Error(kUsage) otherwise).
TrainResult run_evaluation(storage::Warehouse& warehouse, const TrainRequest& request,
                           const LogSink& log);

}  // namespace reco::training
