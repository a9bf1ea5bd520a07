#include "training/search.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "algorithms/algorithm.h"
#include "core/error.h"
#include "core/json.h"
#include "core/random.h"
#include "evaluation/ranking.h"

namespace reco::training {

namespace {

using nlohmann::json;

constexpr size_t kMaxSettings = 1000;

std::string value_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return v.dump();
}

[[noreturn]] void bad(const std::string& what) {
  throw Error(ErrorKind::kUsage, "options: search: " + what);
}

}  // namespace

bool lower_is_better(const std::string& metric) {
  return evaluation::lower_is_better(metric).value_or(false);
}

SearchSpec SearchSpec::from_json(const json& j) {
  if (!j.is_object())
    bad("expected a JSON object {\"method\", \"params\", \"trials\", \"metric\"}");
  SearchSpec s;
  for (const auto& [key, v] : j.items()) {
    if (key == "method") {
      if (v == "grid") {
        s.method = Method::kGrid;
      } else if (v == "random") {
        s.method = Method::kRandom;
      } else {
        bad(fmt::format("method {} is not grid or random", json_preview(v)));
      }
    } else if (key == "trials") {
      if (!v.is_number_integer() || v.get<int64_t>() < 1 ||
          v.get<int64_t>() > static_cast<int64_t>(kMaxSettings)) {
        bad(fmt::format("trials must be an integer in [1, {}]", kMaxSettings));
      }
      s.trials = v.get<int>();
    } else if (key == "metric") {
      if (!v.is_string() || v.get<std::string>().empty()) bad("metric must be a metric's name");
      s.metric = v.get<std::string>();
    } else if (key == "params") {
      if (!v.is_object() || v.empty()) bad("params must be a non-empty object {NAME: space}");
      for (const auto& [name, space] : v.items()) {
        Space sp;
        sp.name = name;
        if (space.is_array()) {
          if (space.empty()) bad(fmt::format("{}: the list of values is empty", name));
          for (const auto& x : space) {
            if (!x.is_primitive() || x.is_null())
              bad(fmt::format("{}: values must be numbers, strings or booleans", name));
            sp.values.push_back(x);
          }
        } else if (space.is_object()) {
          for (const auto& [k, x] : space.items()) {
            if (k == "min" && x.is_number()) {
              sp.min = x.get<double>();
            } else if (k == "max" && x.is_number()) {
              sp.max = x.get<double>();
            } else if (k == "log" && x.is_boolean()) {
              sp.log = x.get<bool>();
            } else {
              bad(
                  fmt::format("{}: a range is {{\"min\": number, \"max\": number, \"log\": bool}}, "
                              "not '{}'",
                              name, k));
            }
          }
          if (!space.contains("min") || !space.contains("max") || !(sp.min < sp.max)) {
            bad(fmt::format("{}: a range needs min < max", name));
          }
          if (sp.log && !(sp.min > 0)) bad(fmt::format("{}: a log range needs min > 0", name));
        } else {
          bad(fmt::format("{}: expected a list of values or {{\"min\", \"max\"}}", name));
        }
        s.params.push_back(std::move(sp));
      }
    } else {
      bad(fmt::format("unknown key '{}' (expected method, params, trials, metric)", key));
    }
  }
  if (s.params.empty()) bad("params is missing: name the hyperparameters to search");
  if (s.method == Method::kGrid) {
    for (const auto& sp : s.params) {
      if (sp.values.empty())
        bad(fmt::format("{}: a grid takes a list of values; ranges are for method random",
                        sp.name));
    }
  }
  return s;
}

json SearchSpec::to_json() const {
  json params = json::object();
  for (const auto& sp : this->params) {
    params[sp.name] = sp.values.empty() ? json{{"min", sp.min}, {"max", sp.max}, {"log", sp.log}}
                                        : json(sp.values);
  }
  json out = {{"method", method == Method::kGrid ? "grid" : "random"},
              {"params", std::move(params)},
              {"metric", metric}};
  if (method == Method::kRandom) out["trials"] = trials;
  return out;
}

std::vector<std::vector<std::pair<std::string, std::string>>> search_candidates(
    const SearchSpec& spec, const std::string& algorithm, uint64_t seed, int folds) {
  const algorithms::Algorithm& algo = algorithms::find_algorithm(algorithm);
  for (const auto& sp : spec.params) {
    if (!find_option(algo.params, sp.name)) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("options: search: {} is not a parameter of {} (its parameters: {})",
                              sp.name, algorithm, option_names(algo.params)));
    }
  }
  std::vector<std::vector<std::pair<std::string, std::string>>> out;
  if (spec.method == SearchSpec::Method::kGrid) {
    size_t total = 1;
    for (const auto& sp : spec.params) {
      total *= sp.values.size();
      if (total > kMaxSettings) {
        size_t all = 1;
        for (const auto& p : spec.params) all *= p.values.size();
        throw Error(
            ErrorKind::kUsage,
            fmt::format("options: search: the grid has {} settings ({} fits with {} "
                        "folds): at most {}; use method random with trials",
                        all, all * static_cast<size_t>(std::max(folds, 1)), folds, kMaxSettings));
      }
    }
    std::vector<size_t> index(spec.params.size(), 0);
    for (size_t n = 0; n < total; ++n) {
      std::vector<std::pair<std::string, std::string>> setting;
      for (size_t p = 0; p < spec.params.size(); ++p)
        setting.emplace_back(spec.params[p].name, value_text(spec.params[p].values[index[p]]));
      out.push_back(std::move(setting));
      for (size_t p = spec.params.size(); p-- > 0;) {  // odometer: the last name varies fastest
        if (++index[p] < spec.params[p].values.size()) break;
        index[p] = 0;
      }
    }
    return out;
  }
  Rng rng(seed, 0x736561726368ULL);  // "search"
  for (int t = 0; t < spec.trials; ++t) {
    std::vector<std::pair<std::string, std::string>> setting;
    for (const auto& sp : spec.params) {
      if (!sp.values.empty()) {
        setting.emplace_back(sp.name, value_text(sp.values[rng.below(sp.values.size())]));
        continue;
      }
      const double u = rng.uniform();
      double x = sp.log ? std::exp(std::log(sp.min) + u * (std::log(sp.max) - std::log(sp.min)))
                        : sp.min + u * (sp.max - sp.min);
      const OptionSpec* row = find_option(algo.params, sp.name);
      if (row->type == OptionType::kInt) {
        setting.emplace_back(sp.name, std::to_string(std::llround(x)));
      } else {
        setting.emplace_back(sp.name, fmt::format("{:.6g}", x));
      }
    }
    out.push_back(std::move(setting));
  }
  return out;
}

}  // namespace reco::training
