// The options JSON of a training job (SQL and HTTP), parsed once into a JobSpec, and the
// listing of every option.
#include <algorithm>

#include <fmt/format.h>

#include "algorithms/algorithm.h"
#include "core/error.h"
#include "core/json.h"
#include "core/options_json.h"
#include "training/job_spec.h"

namespace reco::training {
namespace {

using nlohmann::json;

// The keys the options object accepts, for messages: the job options in table order, with
// "params" (the hyperparameters) after "model".
std::string accepted_keys(const OptionTable& table) {
  std::string out;
  for (const auto& row : table) {
    out += (out.empty() ? "" : ", ") + row.name;
    if (row.name == "model") out += ", params";
  }
  return out + ", search";
}

// ["u1.base", "u2.base"] as the flat option's "u1.base,u2.base"; nullopt for anything but an
// array of non-empty strings. A path with a comma cannot be listed that way: refused by name.
std::optional<std::string> path_list_text(const json& value, std::string_view part) {
  std::string out;
  for (const auto& element : value) {
    if (!element.is_string() || element.get_ref<const std::string&>().empty()) return std::nullopt;
    const auto& path = element.get_ref<const std::string&>();
    if (path.find(',') != std::string::npos) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("options: split.{}: the path '{}' has a comma, which this list "
                              "cannot carry: rename or link the file",
                              part, path));
    }
    out += (out.empty() ? "" : ",") + path;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

json row_json(const OptionSpec& row) {
  return {
      {"name", row.name},
      {"type", option_type_name(row.type)},
      {"default", row.default_text()},
      {"default_value", row.default_value ? option_value_json(*row.default_value) : json()},
      {"range", row.range_text()},
      {"doc", row.doc},
      {"flag", row.flag.empty() ? json() : json(row.long_flag())},
      {"only_when",
       row.applies_when ? json(row.applies_when->option + "=" + row.applies_when->value) : json()}};
}

}  // namespace

JobSpec parse_job_options(std::string input_table, std::string output_table,
                          std::string_view options_text) {
  if (options_text.empty()) {
    return job_spec_from_json(std::move(input_table), std::move(output_table), json::object());
  }
  json j;
  try {
    j = parse_json(options_text);
  } catch (const json::parse_error& e) {
    throw Error(ErrorKind::kUsage, fmt::format("options: not valid JSON: {}", e.what()));
  }
  return job_spec_from_json(std::move(input_table), std::move(output_table), j);
}

JobSpec job_spec_from_json(std::string input_table, std::string output_table, const json& options) {
  if (!options.is_object()) throw Error(ErrorKind::kUsage, "options: expected a JSON object");
  const OptionTable table = job_option_table();
  std::vector<std::pair<std::string, std::string>> job, hyper;
  std::optional<SearchSpec> search;
  for (const auto& [key, value] : options.items()) {
    if (key == "search") {
      search = SearchSpec::from_json(value);
      continue;
    }
    if (key == "params") {
      if (!value.is_object())
        throw Error(ErrorKind::kUsage, "options: params must be a JSON object");
      for (const auto& [name, v] : value.items()) {
        auto text = json_scalar_text(v);
        if (!text) {
          throw Error(ErrorKind::kUsage,
                      fmt::format("options: {} must be a string, number or boolean", name));
        }
        hyper.emplace_back(name, std::move(*text));
      }
      continue;
    }
    if (key == "split" && value.is_object()) {
      // {"kind": "stratified", "test_ratio": 0.25}, {"kind": "last_n", "n": 1},
      // {"kind": "files", "train_files": ["u1.base"], "test_files": ["u1.test"]}, ...
      for (const auto& [part, v] : value.items()) {
        static const std::pair<const char*, const char*> kParts[] = {{"kind", "split"},
                                                                     {"folds", "folds"},
                                                                     {"test_ratio", "test_ratio"},
                                                                     {"n", "test_n"},
                                                                     {"train_files", "train_files"},
                                                                     {"test_files", "test_files"}};
        const auto it = std::find_if(std::begin(kParts), std::end(kParts),
                                     [&](const auto& p) { return part == p.first; });
        if (it == std::end(kParts)) {
          throw Error(ErrorKind::kUsage,
                      fmt::format("options: split: unknown key '{}' (expected kind, folds, "
                                  "test_ratio, n, train_files, test_files)",
                                  part));
        }
        std::optional<std::string> text;
        if (v.is_array() && std::string_view(it->second).ends_with("_files")) {
          text = path_list_text(v, part);
        } else {
          text = json_scalar_text(v);
        }
        const OptionSpec* row = find_option(table, it->second);
        if (!text || !parse_option_type(*row, *text)) {
          throw Error(ErrorKind::kUsage,
                      fmt::format("options: split.{} must be {}", part, option_type_phrase(*row)));
        }
        job.emplace_back(it->second, std::move(*text));
      }
      continue;
    }
    const std::string name = key == "algo" ? "algorithm" : key;
    const OptionSpec* row = find_option(table, name);
    if (row == nullptr) {
      throw Error(ErrorKind::kUsage, fmt::format("options: unknown key '{}' (expected {})", key,
                                                 accepted_keys(table)));
    }
    auto text = json_scalar_text(value);
    if (!text || !parse_option_type(*row, *text)) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("options: {} must be {}", key, option_type_phrase(*row)));
    }
    job.emplace_back(name, std::move(*text));
  }
  JobSpec spec = make_job_spec(std::move(input_table), std::move(output_table), job, hyper);
  spec.search = std::move(search);
  return spec;
}

json job_options_json(const JobSpec& spec) {
  json out = json::object();
  for (const auto& row : job_options()) {
    if (const auto v = row.get(spec)) out[row.spec.name] = option_value_json(*v);
  }
  out["params"] = algorithms::params_to_json(spec.params);
  if (spec.search) out["search"] = spec.search->to_json();
  return out;
}

json job_request_json(const JobSpec& spec, std::string_view via) {
  return {{"input_table", spec.input_table},
          {"output_table", spec.output_table.empty() ? json(nullptr) : json(spec.output_table)},
          {"options", job_options_json(spec)},
          {"via", via}};
}

json job_options_listing() {
  json algorithms_json = json::array();
  for (const algorithms::Algorithm* a : algorithms::all_algorithms()) {
    json params = json::array();
    for (const auto& row : a->params) params.push_back(row_json(row));
    algorithms_json.push_back({{"name", a->name}, {"doc", a->doc}, {"params", params}});
  }
  json job = json::array();
  for (const auto& row : job_option_table()) job.push_back(row_json(row));
  return {{"algorithms", algorithms_json}, {"job_options", job}};
}

}  // namespace reco::training
