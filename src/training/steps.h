#pragma once
// The steps of a training job (train_job.h), each usable on its own, so a scheduler, another
// warehouse backend or a progress reporter can compose them:
//   plan -> read -> evaluate -> refit -> recommend -> publish
// plan checks everything that can be checked before data is read; only publish writes.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "algorithms/model.h"
#include "core/home.h"
#include "core/identifiers.h"
#include "core/progress.h"
#include "core/ratings.h"
#include "core/stopwatch.h"
#include "evaluation/cross_validate.h"
#include "recommendation/top_n.h"
#include "storage/warehouse.h"
#include "training/job_spec.h"
#include "training/train_job.h"

namespace reco::training {

// What the job will do, checked before any data is read.
struct JobPlan {
  TableRef input;
  std::optional<TableRef> output;
  std::string model_name;   // the spec's, or derived from the input table's name
  std::string recs_column;  // TOP_<k>_RECOMMENDATIONS
};
// Parses the table names, settles the model name, and checks an existing output table's shape
// (Error(kConflict) naming its columns) so that a mistake costs nothing.
JobPlan plan_job(storage::Warehouse& warehouse, const JobSpec& spec);

// The input table's user, item and rating columns: the spec's names, or the first of the default
// names (job_spec.h) the table has. Throws Error(kInput) naming the table and what is missing.
storage::RatingColumns rating_columns(storage::Warehouse& warehouse, const TableRef& input,
                                      const JobSpec& spec);

// 1. The ratings, with the rating scale: the spec's, or observed in the data.
struct TrainingData {
  Dataset data;
  RatingScale scale;
};
TrainingData read_training_data(storage::Warehouse& warehouse, const JobPlan& plan,
                                const JobSpec& spec);

// 2. k-fold cross-validation (spec.folds > 0).
evaluation::CvReport evaluate(const TrainingData& data, const JobSpec& spec, int threads,
                              Progress* progress = nullptr);

// 3. The model, trained on every rating, on `threads` threads (0: all cores).
// `curve`, when given, receives the training RMSE of each epoch.
std::unique_ptr<algorithms::Model> refit(const TrainingData& data, const JobSpec& spec, int threads,
                                         Progress* progress = nullptr,
                                         std::vector<double>* curve = nullptr);

// 2a. Hyperparameter search (spec.search, search.h): each candidate cross-validated as step 2
// does, on the same split; the winner by spec.search->metric. `log` gets one line per trial.
struct SearchOutcome {
  JobSpec best;                  // the spec with the winning hyperparameters (search cleared)
  evaluation::CvReport best_cv;  // the winner's cross-validation (the job need not run it again)
  double best_seconds = 0;       // its wall time
  nlohmann::json record;  // {"method", "metric", "lower_is_better", "settings": [...], "best"}
  std::string table;      // the same as text, one row per setting, the best marked
};
SearchOutcome search(const TrainingData& data, const JobSpec& spec, int threads, Progress* progress,
                     const LogSink& log);

// 2 and 3 together when spec.folds > 0: the fit on every rating runs on the same threads as the
// folds (evaluation::cross_validate_and_fit), so a round of folds that would leave a core idle
// does not. The same report and model as evaluate() then refit().
struct Evaluated {
  evaluation::CvReport cv;
  std::unique_ptr<algorithms::Model> model;
  double fit_seconds = 0.0;            // the fit on every rating alone (it overlapped the folds)
  std::vector<double> fit_epoch_rmse;  // its learning curve
};
Evaluated evaluate_and_refit(const TrainingData& data, const JobSpec& spec, int threads,
                             Progress* progress = nullptr);

// 4. The top spec.top_k unrated items of every model user (index = model user).
using TopLists = std::vector<std::vector<recommendation::Scored>>;
TopLists recommend_all(const algorithms::Model& model, const JobSpec& spec, int threads,
                       Progress* progress = nullptr);

// 5. A new model version (artifact + run.json), then the output table (rows replaced in one
// transaction) when the plan has one. On failure the version stays invisible (its directory
// keeps only a run.json saying Failed, so the number is not reused) and the output table is
// untouched. Fills in summary's job id (job_id, or one
// made from the model name and version), version, artifact URI and output rows, and records
// the summary in run.json.
struct Trained {
  const JobPlan& plan;
  const JobSpec& spec;
  const TrainingData& data;
  const std::optional<evaluation::CvReport>& cv;
  const algorithms::Model& model;
  const TopLists& top;
  const Stopwatch& job_clock;                 // started with the job: the summary's total time
  const std::vector<double>& fit_epoch_rmse;  // the model's learning curve (may be empty)
};
// A table in the warehouse that records, in the transaction that writes an output table, which
// job's model version that table belongs to (training/recovery.h reads it). Hidden from the
// shell's .tables and .schema.
inline constexpr const char* kPublicationsTable = "_reco_publications";

// Stages the model version, writes the output table (the commit point), then makes the version
// visible; a process killed anywhere in between leaves what recovery settles.
std::filesystem::path publish(storage::Warehouse& warehouse, const Home& home,
                              const Trained& trained, const std::string& job_id,
                              TrainSummary& summary, const LogSink& log);

}  // namespace reco::training
