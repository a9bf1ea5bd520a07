#include "recommendation/fold_in.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "algorithms/als.h"
#include "algorithms/ease.h"
#include "algorithms/factor_model.h"
#include "algorithms/ials.h"
#include "algorithms/interactions.h"
#include "algorithms/knn.h"
#include "algorithms/slope_one.h"
#include "core/error.h"
#include "core/ids.h"

namespace reco::recommendation {

namespace {

double number_or(const nlohmann::json& params, const char* name, double fallback) {
  const auto it = params.find(name);
  return it != params.end() && it->is_number() ? it->get<double>() : fallback;
}

// An item id as JSON: 10, 10.0, "10" or "10.0" (core/ids.h).
std::optional<int64_t> item_id(const nlohmann::json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) return id_from_double(v.get<double>());
  if (v.is_string()) return id_from_text(v.get_ref<const std::string&>());
  return std::nullopt;
}

std::pair<int64_t, double> entry(const nlohmann::json& item, const nlohmann::json& rating,
                                 const std::string& where) {
  const auto id = item_id(item);
  if (!id) throw Error(ErrorKind::kUsage, fmt::format("ratings{}: the item is not an id", where));
  if (!rating.is_number()) {
    throw Error(ErrorKind::kUsage, fmt::format("ratings{}: the rating is not a number", where));
  }
  return {*id, rating.get<double>()};
}

}  // namespace

std::vector<std::pair<int64_t, double>> ratings_from_json(const nlohmann::json& ratings) {
  std::vector<std::pair<int64_t, double>> out;
  if (ratings.is_object()) {
    for (const auto& [key, value] : ratings.items()) {
      out.push_back(entry(nlohmann::json(key), value, fmt::format("[\"{}\"]", key.substr(0, 40))));
    }
    return out;
  }
  if (!ratings.is_array()) {
    throw Error(ErrorKind::kUsage,
                "ratings must be [[item, rating], ...], {\"item\": rating, ...} or "
                "[{\"item\": i, \"rating\": r}, ...]");
  }
  for (size_t k = 0; k < ratings.size(); ++k) {
    const auto& e = ratings[k];
    const std::string where = fmt::format("[{}]", k);
    if (e.is_array() && e.size() == 2) {
      out.push_back(entry(e[0], e[1], where));
    } else if (e.is_object() && e.contains("item") && e.contains("rating")) {
      out.push_back(entry(e["item"], e["rating"], where));
    } else {
      throw Error(
          ErrorKind::kUsage,
          fmt::format("ratings{}: expected [item, rating] or {{\"item\", \"rating\"}}", where));
    }
  }
  return out;
}

nlohmann::json fold_in_json(const algorithms::Model& model, const FoldInResult& result) {
  nlohmann::json recs = nlohmann::json::array();
  for (size_t r = 0; r < result.top.size(); ++r) {
    recs.push_back({{"rank", r + 1},
                    {"item", model.items.raw(result.top[r].item)},
                    {"score", result.top[r].score},
                    {"prediction", model.clip(result.top[r].score)}});
  }
  nlohmann::json note = nullptr;
  if (result.fallback && result.used > 0) {
    note = fmt::format(
        "none of the {} known rated items is a positive (rated at least the model's min_rating): "
        "ranked by the model's estimate for an unknown user",
        result.used);
  } else if (result.fallback) {
    note =
        result.ignored > 0
            ? fmt::format(
                  "none of the {} rated items is known to the model: ranked by the "
                  "model's estimate for an unknown user",
                  result.ignored)
            : std::string("no ratings given: ranked by the model's estimate for an unknown user");
  } else if (result.ignored > 0) {
    note = fmt::format("{} rated item(s) unknown to the model were ignored", result.ignored);
  }
  return {{"recommendations", std::move(recs)},
          {"used", result.used},
          {"ignored", result.ignored},
          {"fallback", result.fallback},
          {"note", note}};
}

FoldInRegularization FoldInRegularization::from_hyperparameters(const std::string& algorithm,
                                                                const nlohmann::json& params) {
  using Method = FoldInRegularization::Method;
  FoldInRegularization r;
  if (algorithm == "svd") {
    const double all = number_or(params, "reg_all", 0.02);
    r.bias = number_or(params, "reg_bu", all);
    r.factors = number_or(params, "reg_pu", all);
  } else if (algorithm == "baseline") {
    const bool sgd = params.is_object() && params.value("method", "als") == "sgd";
    r.bias = sgd ? number_or(params, "reg", 0.02) : number_or(params, "reg_u", 15.0);
  } else if (algorithm == "als") {
    r.method = Method::kAls;
    r.factors = number_or(params, "reg_param", 0.1);
  } else if (algorithm == "ials") {
    r.method = Method::kIals;
    r.factors = number_or(params, "regularization", 0.01);
    r.alpha = number_or(params, "alpha", 1.0);
    r.rating_confidence = params.is_object() && params.value("confidence", "binary") == "rating";
    r.min_rating = number_or(params, "min_rating", 0.0);
  } else if (algorithm == "ease") {
    r.method = Method::kEase;
  } else if (algorithm == "knn_baseline") {  // the new user's baseline b_u
    const bool sgd = params.is_object() && params.value("method", "als") == "sgd";
    r.bias = sgd ? number_or(params, "reg", 0.02) : number_or(params, "reg_u", 15.0);
  } else if (algorithm != "knn_basic" && algorithm != "knn_with_means" &&
             algorithm != "knn_with_zscore" && algorithm != "slope_one") {
    throw Error(ErrorKind::kUsage,
                fmt::format("fold-in is not available for {} models (svd, baseline, als, ials, "
                            "ease, slope_one and item-based knn models have it)",
                            algorithm));
  }
  return r;
}

namespace {

// Neighbourhood models score a new user directly from the ratings (item-based knn: the user's
// rated items are the candidates of every prediction, in the given order; slope_one: the user's
// mean plus the deviations), with the user's baseline for knn_baseline solved as BaselineOnly's
// ALS user step, b_u = sum(r - mu - b_i) / (reg + n).
void neighbourhood_scores(const algorithms::Model& model, const FoldInRegularization& reg,
                          const std::vector<uint32_t>& items, const std::vector<double>& values,
                          FoldInResult& out, std::vector<float>& scores) {
  if (const auto* knn = dynamic_cast<const algorithms::KnnModel*>(&model)) {
    std::vector<std::pair<uint32_t, double>> rated;
    double bu = 0.0;
    for (size_t t = 0; t < items.size(); ++t) {
      rated.emplace_back(items[t], values[t]);
      if (knn->kind == algorithms::KnnKind::kBaseline)
        bu += values[t] - knn->global_mean - knn->item_bias[items[t]];
    }
    if (knn->kind == algorithms::KnnKind::kBaseline) {
      bu /= reg.bias + static_cast<double>(items.size());
      out.user_bias = bu;
    }
    knn->score_new_user(rated, bu, scores);
    return;
  }
  if (const auto* slope = dynamic_cast<const algorithms::SlopeOneModel*>(&model)) {
    double mean = 0.0;
    for (const double v : values) mean += v;
    mean /= static_cast<double>(values.size());
    std::vector<uint32_t> sorted = items;
    std::sort(sorted.begin(), sorted.end());
    slope->score_new_user(sorted, mean, scores);
  }
}

// A factor model's new user: the ridge regression of the header comment, solved exactly, or
// als's and ials's own user step (their solvers).
void factor_scores(const algorithms::FactorModel& m, const FoldInRegularization& reg,
                   const std::vector<uint32_t>& items, const std::vector<double>& values,
                   FoldInResult& out, std::vector<float>& scores) {
  using Method = FoldInRegularization::Method;
  const uint32_t ni = m.n_items();
  // Unknowns: [b_u] (biased) then p_u (n_factors).
  const size_t nf = m.n_factors;
  const size_t offset = m.biased ? 1 : 0;
  const size_t n = offset + nf;
  std::vector<double> x(n, 0.0);
  if (reg.method == Method::kAls) {
    x = algorithms::als_solve_user(reg.factors, m, items, values);
  } else if (reg.method == Method::kIals) {
    algorithms::IalsOptions o;
    o.regularization = reg.factors;
    o.alpha = reg.alpha;
    o.rating_confidence = reg.rating_confidence;
    o.min_rating = reg.min_rating;
    std::vector<uint32_t> positive_items;
    std::vector<double> positive_values;
    for (size_t t = 0; t < items.size(); ++t) {
      if (values[t] >= reg.min_rating) {
        positive_items.push_back(items[t]);
        positive_values.push_back(values[t]);
      }
    }
    x = algorithms::ials_solve_user(o, m, positive_items, positive_values);
  } else if (n > 0) {
    std::vector<double> a(n * n, 0.0), b(n, 0.0), row(n);
    for (size_t t = 0; t < items.size(); ++t) {
      const uint32_t i = items[t];
      double target = values[t];
      if (m.biased) {
        target -= m.global_mean + m.item_bias[i];
        row[0] = 1.0;
      }
      for (size_t f = 0; f < nf; ++f) row[offset + f] = m.item_factors[size_t{i} * nf + f];
      for (size_t r = 0; r < n; ++r) {
        b[r] += row[r] * target;
        for (size_t c = 0; c <= r; ++c) a[r * n + c] += row[r] * row[c];
      }
    }
    for (size_t r = 0; r < n; ++r)
      for (size_t c = r + 1; c < n; ++c) a[r * n + c] = a[c * n + r];
    if (m.biased) a[0] += reg.bias;
    for (size_t f = 0; f < nf; ++f) a[(offset + f) * n + offset + f] += reg.factors;
    if (!algorithms::solve_spd_in_place(a.data(), b.data(), n)) {
      throw Error(ErrorKind::kInput, "fold-in: the user's system is singular (no regularisation)");
    }
    x = std::move(b);
  }
  out.user_bias = m.biased ? x[0] : 0.0;
  out.user_factors.assign(x.begin() + static_cast<ptrdiff_t>(offset), x.end());
  for (uint32_t i = 0; i < ni; ++i) {
    double s = m.biased ? m.global_mean + m.item_bias[i] + x[0] : 0.0;
    for (size_t f = 0; f < nf; ++f) s += m.item_factors[size_t{i} * nf + f] * x[offset + f];
    scores[i] = static_cast<float>(s);
  }
}

}  // namespace

FoldInResult fold_in(const algorithms::Model& model, const FoldInRegularization& reg,
                     const std::vector<std::pair<int64_t, double>>& ratings, size_t k) {
  const bool neighbourhood = dynamic_cast<const algorithms::KnnModel*>(&model) != nullptr ||
                             dynamic_cast<const algorithms::SlopeOneModel*>(&model) != nullptr;
  if (const auto* knn = dynamic_cast<const algorithms::KnnModel*>(&model); knn && knn->user_based) {
    throw Error(ErrorKind::kUsage,
                fmt::format("fold-in is not available for user-based {} models: a new user's "
                            "similarities to the training users are not in the model; train "
                            "with user_based=false",
                            model.algorithm));
  }
  FoldInResult out;
  std::unordered_set<int64_t> seen;
  std::vector<uint32_t> items;
  std::vector<double> values;
  for (const auto& [raw, rating] : ratings) {
    if (!std::isfinite(rating)) {
      throw Error(ErrorKind::kUsage, fmt::format("the rating of item {} is not a number", raw));
    }
    if (!seen.insert(raw).second) {
      throw Error(ErrorKind::kUsage, fmt::format("item {} is rated twice", raw));
    }
    const int64_t i = model.items.find(raw);
    if (i < 0) {
      ++out.ignored;
      continue;
    }
    items.push_back(static_cast<uint32_t>(i));
    values.push_back(rating);
  }
  out.used = items.size();
  const auto* ease = dynamic_cast<const algorithms::EaseModel*>(&model);
  if (!neighbourhood && ease == nullptr)
    static_cast<void>(algorithms::as_factor_model(model));  // Error if another type
  const uint32_t ni = model.n_items();
  std::vector<float> scores(ni);
  // ials and ease read only the positives (ratings >= min_rating): without one, the fallback.
  const double min_rating = ease != nullptr ? ease->min_rating
                            : reg.method == FoldInRegularization::Method::kIals
                                ? reg.min_rating
                                : -std::numeric_limits<double>::infinity();
  std::vector<uint32_t> positives;
  for (size_t t = 0; t < items.size(); ++t)
    if (values[t] >= min_rating) positives.push_back(items[t]);
  std::sort(positives.begin(), positives.end());
  if (positives.empty()) {
    out.fallback = true;
    model.score_unknown_user(0, ni, scores.data());
  } else if (ease != nullptr) {  // no unknowns: x B
    ease->score_items(positives.data(), positives.size(), 0, ni, scores.data());
  } else if (neighbourhood) {
    neighbourhood_scores(model, reg, items, values, out, scores);
  } else {
    factor_scores(algorithms::as_factor_model(model), reg, items, values, out, scores);
  }
  std::sort(items.begin(), items.end());
  out.top = TopN(model).select(scores, k, items);
  return out;
}

}  // namespace reco::recommendation
