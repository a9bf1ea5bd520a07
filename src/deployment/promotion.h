#pragma once
// Promotion by metric: deploy a new model version only if its cross-validated metric beats the
// serving version's by a margin.
//
// What "beats" means (README, "Promotion by metric"): both numbers are the CV means recorded in
// the artifacts when they were trained (cv.mean.<metric>); nothing is re-evaluated at deploy
// time. The improvement is serving - candidate for a lower-is-better metric (rmse, mae),
// candidate - serving for a higher-is-better one (precision@K, recall@K, ndcg@K, map@K,
// hitrate@K, coverage), and the candidate is promoted when the improvement is strictly greater
// than the margin (margin >= 0; with margin 0 a tie is refused). CV means are directly comparable
// only when both versions were cross-validated on the same data (table fingerprint), with the same
// number of folds and the same seed (so the same splits). When they were not, the result says so
// ("comparable": false and "note"), and the rule is:
//   - by default the means are still compared: each estimates its model's error on the data it
//     was trained on, which is what a retrain on grown data wants to know;
//   - with "require_same_data": true the promotion is refused unless the data, folds and seed
//     are the same.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace reco::deployment {

// What a model version reports, from its artifact's metadata.
struct ModelMetrics {
  std::optional<double> cv_rmse;
  std::optional<double> cv_mae;
  std::optional<int> cv_folds;
  std::optional<int64_t> seed;
  std::string data_table;
  std::string data_fingerprint;
  std::map<std::string, double> cv_mean;  // every cross-validated mean (cv.mean): ndcg@10, ...

  static ModelMetrics from_metadata(std::string_view metadata_json);
  static ModelMetrics from_json(const nlohmann::json& j);  // what to_json wrote (lenient)
  nlohmann::json to_json() const;
  std::optional<double> metric(const std::string& name) const;  // "rmse", "ndcg@10", ...
};

struct PromotionPolicy {
  std::string metric = "rmse";
  double margin = 0;
  bool require_same_data = false;

  // Checks the metric name and the margin; Error(kUsage) naming the mistake.
  void validate() const;
  nlohmann::json to_json() const;
};

// The options of deploy_model(endpoint, url, options), `PUT /endpoints/{name}` and `/deploy`:
// {"promote_if": {"metric": "rmse", "margin": 0.001, "require_same_data": false}}; "promote_if"
// may also be just the metric's name. Empty text means no options. Error(kUsage) names an
// unknown key, a wrong type or a bad value.
std::optional<PromotionPolicy> parse_promotion_options(std::string_view options_json);
std::optional<PromotionPolicy> promotion_from_json(const nlohmann::json& options);

// The metrics promote_if accepts, with their direction: "rmse, mae (lower is better), ...".
std::string known_metrics_text();

struct PromotionDecision {
  bool promote = false;
  std::string reason;      // one sentence, naming both values
  nlohmann::json details;  // metric, direction, margin, candidate, serving, improvement, ...
};

// Compares the candidate with the serving version. `candidate_name` / `serving_name` name them
// in messages ("models:/m/3"). Throws Error(kInput) when either does not report the metric (a
// model trained with folds = 0 has no CV metrics).
PromotionDecision decide_promotion(const PromotionPolicy& policy, const ModelMetrics& candidate,
                                   const std::string& candidate_name, const ModelMetrics& serving,
                                   const std::string& serving_name);

}  // namespace reco::deployment
