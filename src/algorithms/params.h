#pragma once
// Hyperparameters: one table per algorithm is the single source of truth for every parameter's
// name, type, default, valid range and documentation. Parsing, validation, help text and the
// JSON recorded with a model are all generated from it, so they cannot disagree.
//
// Names and defaults follow Surprise (SVD and BaselineOnly's bsl_options), so a configuration
// written for the reference pipeline means the same thing here.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace reco::algorithms {

enum class ParamType { kInt, kFloat, kBool, kEnum };
const char* param_type_name(ParamType type);

// int64_t for kInt, double for kFloat, bool for kBool, std::string for kEnum.
using ParamValue = std::variant<int64_t, double, bool, std::string>;

// A parameter that only means something when an enum parameter has a given value
// (e.g. BaselineOnly's reg_u only with method=als).
struct ParamCondition {
  std::string param;
  std::string value;
};

struct ParamSpec {
  std::string name;
  ParamType type;
  ParamValue default_value;
  // When non-empty, the default is the effective value of that parameter (lr_bu <- lr_all).
  std::string default_from;
  // Defaults that replace default_value when a condition holds (n_epochs 20 with method=sgd).
  std::vector<std::pair<ParamCondition, ParamValue>> conditional_defaults;
  std::optional<ParamCondition> applies_when;
  // Numeric range; an open bound excludes the value itself.
  double min = 0.0;
  double max = 0.0;
  bool min_open = false;
  bool max_open = false;
  std::vector<std::string> choices;  // kEnum only
  std::string doc;

  std::string range_text() const;    // "[1, 2048]", "(0, 1]", "als|sgd", "true|false"
  std::string default_text() const;  // "100", "lr_all", "10 (20 when method=sgd)"
};

struct AlgorithmSpec {
  std::string name;
  std::string doc;
  std::vector<ParamSpec> params;
};

// All algorithms, in a fixed order.
const std::vector<AlgorithmSpec>& algorithm_specs();
std::vector<std::string> algorithm_names();
// Throws Error(kUsage) listing the valid names when the algorithm is unknown.
const AlgorithmSpec& algorithm_spec(std::string_view algorithm);

// Effective hyperparameters of one algorithm: every parameter that applies, with defaults
// resolved, in table order.
class Params {
 public:
  const std::string& algorithm() const { return algorithm_; }
  const std::vector<std::pair<std::string, ParamValue>>& values() const { return values_; }

  bool has(std::string_view name) const { return find(name) != nullptr; }
  // True when the value came from the caller rather than from a default.
  bool explicitly_set(std::string_view name) const;
  // Typed access; asking for a parameter that does not apply or has another type is a
  // programming error and throws Error(kInternal).
  int64_t get_int(std::string_view name) const;
  double get_float(std::string_view name) const;
  bool get_bool(std::string_view name) const;
  const std::string& get_enum(std::string_view name) const;

 private:
  friend Params parse_params(std::string_view,
                             const std::vector<std::pair<std::string, std::string>>&);
  const ParamValue* find(std::string_view name) const;
  const ParamValue& get(std::string_view name, ParamType type) const;

  std::string algorithm_;
  std::vector<std::pair<std::string, ParamValue>> values_;
  std::vector<std::string> explicit_names_;
};

// Validates and resolves name=value pairs for an algorithm.
//  - unknown algorithm or parameter name, a name given twice, or a parameter that does not
//    apply under the other settings: Error(kUsage) listing the valid choices;
//  - a value of the wrong type or out of range: Error(kInput) naming the parameter, the value
//    and the valid range.
Params parse_params(std::string_view algorithm,
                    const std::vector<std::pair<std::string, std::string>>& name_values);
// Same, from a JSON object whose values are strings, numbers or booleans (the SageMaker-style
// convention sends every hyperparameter as a string).
Params parse_params_json(std::string_view algorithm, const nlohmann::json& object);
// Defaults only.
inline Params default_params(std::string_view algorithm) {
  return parse_params(algorithm, {});
}

// Effective values as a JSON object (keys sorted, so the text is deterministic).
nlohmann::json params_to_json(const Params& params);
std::string format_param_value(const ParamValue& value);

// Help text: one line per parameter with type, default, range and doc.
std::string params_help(std::string_view algorithm);
std::string params_help_all();

}  // namespace reco::algorithms
