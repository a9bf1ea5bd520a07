#include "deployment/promotion.h"

#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "core/error.h"
#include "core/json.h"
#include "registry/model_registry.h"

namespace reco::deployment {
using nlohmann::json;

namespace {

struct MetricInfo {
  const char* name;  // exact, or a prefix ending in '@' followed by the cut-off k
  bool lower_is_better;
};

// Every metric a model's cross-validation reports (cv.mean in its artifact), with its
// direction. Obscurity is left out: it describes what is recommended, not how well, so neither
// direction is "better".
constexpr MetricInfo kMetrics[] = {{"rmse", true},      {"mae", true},      {"precision@", false},
                                   {"recall@", false},  {"ndcg@", false},   {"map@", false},
                                   {"hitrate@", false}, {"coverage", false}};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const MetricInfo* find_metric(const std::string& name) {
  const std::string n = lower(name);
  for (const MetricInfo& m : kMetrics) {
    const std::string_view key = m.name;
    if (key.back() != '@') {
      if (n == key) return &m;
    } else if (n.size() > key.size() && n.compare(0, key.size(), key) == 0 &&
               n.find_first_not_of("0123456789", key.size()) == std::string::npos) {
      return &m;
    }
  }
  return nullptr;
}

template <typename T>
std::optional<T> optional_number(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<T>();
}

json or_null(const std::optional<double>& v) {
  return v ? json(*v) : json(nullptr);
}

}  // namespace

std::string known_metrics_text() {
  std::string lower_better, higher_better;
  for (const MetricInfo& m : kMetrics) {
    std::string name = m.name;
    if (name.back() == '@') name += "K";
    std::string& list = m.lower_is_better ? lower_better : higher_better;
    list += (list.empty() ? "" : ", ") + name;
  }
  return lower_better + " (lower is better), " + higher_better +
         " (higher is better; K the cut-off they were cross-validated with)";
}

ModelMetrics ModelMetrics::from_metadata(std::string_view metadata_json) {
  ModelMetrics m;
  const auto j = try_parse_json(metadata_json);
  if (!j || !j->is_object()) return m;
  m.cv_rmse = registry::cv_mean(*j, "rmse");
  m.cv_mae = registry::cv_mean(*j, "mae");
  if (const auto cv = j->find("cv"); cv != j->end() && cv->is_object()) {
    m.cv_folds = optional_number<int>(*cv, "folds");
    if (const auto mean = cv->find("mean"); mean != cv->end() && mean->is_object()) {
      for (const auto& [key, value] : mean->items())
        if (value.is_number()) m.cv_mean[key] = value.get<double>();
    }
  }
  m.seed = optional_number<int64_t>(*j, "seed");
  if (const auto d = j->find("data"); d != j->end() && d->is_object()) {
    m.data_table = d->value("table", "");
    m.data_fingerprint = d->value("fingerprint", "");
  }
  return m;
}

ModelMetrics ModelMetrics::from_json(const json& j) {
  ModelMetrics m;
  if (!j.is_object()) return m;
  m.cv_rmse = optional_number<double>(j, "cv_rmse");
  m.cv_mae = optional_number<double>(j, "cv_mae");
  m.cv_folds = optional_number<int>(j, "cv_folds");
  m.seed = optional_number<int64_t>(j, "seed");
  if (const auto mean = j.find("cv_mean"); mean != j.end() && mean->is_object()) {
    for (const auto& [key, value] : mean->items())
      if (value.is_number()) m.cv_mean[key] = value.get<double>();
  }
  m.data_table = j.value("data_table", "");
  m.data_fingerprint = j.value("data_fingerprint", "");
  return m;
}

json ModelMetrics::to_json() const {
  return {{"cv_rmse", or_null(cv_rmse)},
          {"cv_mae", or_null(cv_mae)},
          {"cv_folds", cv_folds ? json(*cv_folds) : json(nullptr)},
          {"seed", seed ? json(*seed) : json(nullptr)},
          {"data_table", data_table},
          {"data_fingerprint", data_fingerprint},
          {"cv_mean", cv_mean.empty() ? json::object() : json(cv_mean)}};
}

std::optional<double> ModelMetrics::metric(const std::string& name) const {
  const std::string n = lower(name);
  if (n == "rmse" && cv_rmse) return cv_rmse;
  if (n == "mae" && cv_mae) return cv_mae;
  const auto it = cv_mean.find(n);
  if (it == cv_mean.end()) return std::nullopt;
  return it->second;
}

void PromotionPolicy::validate() const {
  if (!find_metric(metric))
    throw Error(ErrorKind::kUsage, fmt::format("promote_if: unknown metric '{}': models report {}",
                                               metric.substr(0, 100), known_metrics_text()));
  if (!std::isfinite(margin) || margin < 0)
    throw Error(ErrorKind::kUsage,
                fmt::format("promote_if: margin must be a number >= 0 (in the metric's units), "
                            "got {}",
                            margin));
}

json PromotionPolicy::to_json() const {
  return {{"metric", metric}, {"margin", margin}, {"require_same_data", require_same_data}};
}

std::optional<PromotionPolicy> promotion_from_json(const json& options) {
  if (!options.is_object())
    throw Error(
        ErrorKind::kUsage,
        R"(deploy options must be a JSON object such as {"promote_if": {"metric": "rmse", "margin": 0.001}})");
  for (const auto& [key, value] : options.items()) {
    if (key != "promote_if")
      throw Error(ErrorKind::kUsage, fmt::format("unknown deploy option '{}' (known: promote_if)",
                                                 key.substr(0, 100)));
  }
  const auto it = options.find("promote_if");
  if (it == options.end() || it->is_null()) return std::nullopt;
  PromotionPolicy p;
  if (it->is_string()) {
    p.metric = it->get<std::string>();
  } else if (it->is_object()) {
    for (const auto& [key, value] : it->items()) {
      if (key == "metric") {
        if (!value.is_string())
          throw Error(ErrorKind::kUsage, "promote_if.metric must be a string such as \"rmse\"");
        p.metric = value.get<std::string>();
      } else if (key == "margin") {
        if (value.is_number()) {
          p.margin = value.get<double>();
        } else if (value.is_string()) {  // as SageMaker-style callers send numbers
          const std::string text = value.get<std::string>();
          size_t used = 0;
          try {
            p.margin = std::stod(text, &used);
          } catch (const std::exception&) {
            used = 0;
          }
          if (used == 0 || used != text.size())
            throw Error(
                ErrorKind::kUsage,
                fmt::format("promote_if.margin must be a number, got '{}'", text.substr(0, 100)));
        } else {
          throw Error(ErrorKind::kUsage, "promote_if.margin must be a number");
        }
      } else if (key == "require_same_data") {
        if (!value.is_boolean())
          throw Error(ErrorKind::kUsage, "promote_if.require_same_data must be true or false");
        p.require_same_data = value.get<bool>();
      } else {
        throw Error(ErrorKind::kUsage,
                    fmt::format("unknown promote_if key '{}' (known: metric, margin, "
                                "require_same_data)",
                                key.substr(0, 100)));
      }
    }
  } else {
    throw Error(
        ErrorKind::kUsage,
        R"(promote_if must be an object such as {"metric": "rmse", "margin": 0.001} or a metric name)");
  }
  p.validate();
  return p;
}

std::optional<PromotionPolicy> parse_promotion_options(std::string_view options_json) {
  if (options_json.find_first_not_of(" \t\r\n") == std::string_view::npos) return std::nullopt;
  const auto j = try_parse_json(options_json);
  if (!j)
    throw Error(ErrorKind::kUsage, fmt::format("deploy options are not valid JSON: {}",
                                               std::string(options_json.substr(0, 100))));
  return promotion_from_json(*j);
}

PromotionDecision decide_promotion(const PromotionPolicy& policy, const ModelMetrics& candidate,
                                   const std::string& candidate_name, const ModelMetrics& serving,
                                   const std::string& serving_name) {
  policy.validate();
  const MetricInfo& info = *find_metric(policy.metric);
  auto reported = [&](const ModelMetrics& m, const std::string& name, const std::string& role) {
    const auto v = m.metric(policy.metric);
    if (v) return *v;
    const std::string fix =
        role == "candidate" ? "retrain it with folds >= 2" : "deploy once without promote_if";
    if (m.cv_mean.empty() && !m.cv_rmse)
      throw Error(ErrorKind::kInput,
                  fmt::format("promote_if: the {} {} reports no cross-validated {} (it was "
                              "trained without cross-validation, folds = 0), so there is "
                              "nothing to compare: {}",
                              role, name, policy.metric, fix));
    std::string has;
    for (const auto& [key, value] : m.cv_mean) has += (has.empty() ? "" : ", ") + key;
    throw Error(ErrorKind::kInput,
                fmt::format("promote_if: the {} {} reports no cross-validated {}; it reports {}",
                            role, name, policy.metric, has.empty() ? "rmse, mae" : has));
  };
  const double c = reported(candidate, candidate_name, "candidate");
  const double s = reported(serving, serving_name, "serving version");
  const double improvement = info.lower_is_better ? s - c : c - s;
  const bool same_data =
      !candidate.data_fingerprint.empty() && candidate.data_fingerprint == serving.data_fingerprint;
  const bool same_folds = candidate.cv_folds == serving.cv_folds && candidate.seed == serving.seed;

  PromotionDecision d;
  d.details = {{"metric", lower(policy.metric)},
               {"direction", info.lower_is_better ? "lower is better" : "higher is better"},
               {"margin", policy.margin},
               {"require_same_data", policy.require_same_data},
               {"candidate", {{"model", candidate_name}, {"value", c}}},
               {"serving", {{"model", serving_name}, {"value", s}}},
               {"improvement", improvement},
               {"same_data", same_data},
               {"same_folds", same_folds},
               {"comparable", same_data && same_folds}};
  std::string note;
  if (!same_data) {
    note = fmt::format(
        "the CV means were measured on different data (table {} fingerprint {} vs table {} "
        "fingerprint {}): each estimates its model's error on the data it was trained on",
        candidate.data_table.empty() ? "?" : candidate.data_table,
        candidate.data_fingerprint.empty() ? "?" : candidate.data_fingerprint,
        serving.data_table.empty() ? "?" : serving.data_table,
        serving.data_fingerprint.empty() ? "?" : serving.data_fingerprint);
  } else if (!same_folds) {
    note = fmt::format(
        "same data, but different cross-validation splits ({} folds seed {} vs {} "
        "folds seed {})",
        candidate.cv_folds.value_or(0), candidate.seed.value_or(0), serving.cv_folds.value_or(0),
        serving.seed.value_or(0));
  }
  if (!note.empty()) d.details["note"] = note;

  if (policy.require_same_data && !(same_data && same_folds)) {
    d.promote = false;
    d.details["promoted"] = false;
    d.reason = fmt::format("promotion refused: require_same_data is set and {}", note);
    return d;
  }
  d.promote = improvement > policy.margin;
  d.reason = fmt::format(
      "{} {}: candidate {} has CV {} {:.6g}, serving {} has {:.6g}: improvement {:.6g} {} the "
      "margin {:.6g} ({})",
      d.promote ? "promoted on" : "promotion refused on", policy.metric, candidate_name,
      policy.metric, c, serving_name, s, improvement, d.promote ? "beats" : "does not beat",
      policy.margin, info.lower_is_better ? "lower is better" : "higher is better");
  if (!note.empty()) d.reason += "; note: " + note;
  d.details["promoted"] = d.promote;
  return d;
}

}  // namespace reco::deployment
