#pragma once
// Hyperparameters. Each algorithm declares its parameters once, as an option table
// (core/options.h) in its own file: name, type, default, valid range and documentation.
// Parsing, validation, help text and the JSON recorded with a model are generated from it.
//
// Names and defaults follow Surprise (SVD and BaselineOnly's bsl_options), so a configuration
// written for the reference pipeline means the same thing here.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/options.h"

namespace reco::algorithms {

// Effective hyperparameters of one algorithm: every parameter that applies, with defaults
// resolved, in table order.
class Params {
 public:
  const std::string& algorithm() const { return algorithm_; }
  const std::vector<std::pair<std::string, OptionValue>>& values() const {
    return values_.values();
  }
  bool has(std::string_view name) const { return values_.has(name); }
  // True when the value came from the caller rather than from a default.
  bool explicitly_set(std::string_view name) const { return values_.explicitly_set(name); }
  // Typed access; asking for a parameter that does not apply or has another type is a
  // programming error and throws Error(kInternal).
  int64_t get_int(std::string_view name) const { return values_.get_int(name); }
  double get_float(std::string_view name) const { return values_.get_float(name); }
  bool get_bool(std::string_view name) const { return values_.get_bool(name); }
  const std::string& get_enum(std::string_view name) const { return values_.get_string(name); }
  const OptionValues& options() const { return values_; }

 private:
  friend Params parse_params(std::string_view,
                             const std::vector<std::pair<std::string, std::string>>&);
  std::string algorithm_;
  OptionValues values_;
};

// Validates and resolves name=value pairs for an algorithm:
//  - unknown algorithm or parameter name, a name given twice, or a parameter that does not
//    apply under the other settings: Error(kUsage) listing the valid choices;
//  - a value of the wrong type or out of range: Error(kInput) naming the parameter, the value
//    and the valid range.
Params parse_params(std::string_view algorithm,
                    const std::vector<std::pair<std::string, std::string>>& name_values);
// Defaults only.
inline Params default_params(std::string_view algorithm) {
  return parse_params(algorithm, {});
}
// The same from a JSON object whose values are strings, numbers or booleans (the SageMaker-style
// convention sends every hyperparameter as a string). In params_json.cpp.
Params parse_params_json(std::string_view algorithm, const nlohmann::json& object);
// Effective values as a JSON object (keys sorted, so the text is deterministic).
nlohmann::json params_to_json(const Params& params);

// Help text: the algorithm's name and doc, then one line per parameter with type, default,
// range and doc.
std::string params_help(std::string_view algorithm);
std::string params_help_all();
// The same as Markdown (a heading line and a table per algorithm), for the README.
std::string params_markdown_all();

}  // namespace reco::algorithms
