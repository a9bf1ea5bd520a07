// CvReport as JSON (kept apart so that only this file compiles nlohmann/json).
#include "core/json.h"

#include "evaluation/cross_validate.h"

namespace reco::evaluation {
namespace {

nlohmann::json summary(MeanStd ms) {
  return {{"mean", ms.mean}, {"std", ms.std}};
}

// RMSE or MAE, null for a ranking model (CvReport::rating_metrics).
nlohmann::json rating_metric(bool applies, double value) {
  return applies ? nlohmann::json(value) : nlohmann::json(nullptr);
}

// How the ranking rows were measured: the definitions' parameters and the users scored.
nlohmann::json ranking_json(const RankingOptions& o, const std::vector<FoldResult>& folds) {
  nlohmann::json users = nlohmann::json::array(), relevant = nlohmann::json::array();
  for (const auto& f : folds) {
    users.push_back(f.ranking ? f.ranking->users : 0);
    relevant.push_back(f.ranking ? f.ranking->relevant_users : 0);
  }
  return {{"k", o.k},
          {"relevance_threshold", o.relevance_threshold},
          {"obscure_below", o.obscure_below},
          {"max_users", o.max_users},
          {"users", std::move(users)},
          {"relevant_users", std::move(relevant)}};
}

}  // namespace

nlohmann::json CvReport::to_json() const {
  nlohmann::json per_fold = nlohmann::json::array();
  for (size_t f = 0; f < folds.size(); ++f) {
    const FoldResult& r = folds[f];
    per_fold.push_back({{"fold", f + 1},
                        {"rmse", rating_metric(rating_metrics, r.rmse)},
                        {"mae", rating_metric(rating_metrics, r.mae)},
                        {"fit_time", r.fit_seconds},
                        {"test_time", r.test_seconds},
                        {"n_train", r.n_train},
                        {"n_test", r.n_test}});
  }
  nlohmann::json out = {{"algorithm", algorithm},
                        {"params", algorithms::params_to_json(params)},
                        {"seed", seed},
                        {"n_folds", folds.size()},
                        {"folds", std::move(per_fold)},
                        {"rmse", rating_metrics ? summary(rmse()) : nullptr},
                        {"mae", rating_metrics ? summary(mae()) : nullptr},
                        {"fit_time", summary(fit_seconds())},
                        {"test_time", summary(test_seconds())}};
  const auto rows = ranking_rows();
  for (const auto& row : rows) {
    for (size_t f = 0; f < row.values.size(); ++f) out["folds"][f][row.key] = row.values[f];
    out[row.key] = summary(mean_std(row.values));
  }
  if (!rows.empty()) out["ranking"] = ranking_json(*ranking, folds);
  return out;
}

nlohmann::json CvReport::metrics_json() const {
  nlohmann::json rmse_values = nlohmann::json::array(), mae_values = nlohmann::json::array();
  for (const auto& f : folds) {
    rmse_values.push_back(rating_metric(rating_metrics, f.rmse));
    mae_values.push_back(rating_metric(rating_metrics, f.mae));
  }
  nlohmann::json out = {{"folds", folds.size()},
                        {"rmse", rmse_values},
                        {"mae", mae_values},
                        {"mean",
                         {{"rmse", rating_metric(rating_metrics, rmse().mean)},
                          {"mae", rating_metric(rating_metrics, mae().mean)}}},
                        {"std",
                         {{"rmse", rating_metric(rating_metrics, rmse().std)},
                          {"mae", rating_metric(rating_metrics, mae().std)}}}};
  const auto rows = ranking_rows();
  for (const auto& row : rows) {
    const MeanStd ms = mean_std(row.values);
    out[row.key] = row.values;
    out["mean"][row.key] = ms.mean;
    out["std"][row.key] = ms.std;
  }
  if (!rows.empty()) out["ranking"] = ranking_json(*ranking, folds);
  return out;
}

nlohmann::json CvReport::diagnostics_json() const {
  nlohmann::json curves = nlohmann::json::array();
  for (const auto& f : folds) curves.push_back(f.epoch_rmse);
  return {{"epoch_rmse", std::move(curves)}, {"predictions", predictions().to_json()}};
}

nlohmann::json CvReport::timings_json() const {
  nlohmann::json fit = nlohmann::json::array(), test = nlohmann::json::array();
  for (const auto& f : folds) {
    fit.push_back(f.fit_seconds);
    test.push_back(f.test_seconds);
  }
  return {{"fit_s", fit}, {"test_s", test}};
}

}  // namespace reco::evaluation
