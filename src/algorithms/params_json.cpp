#include <fmt/format.h>

#include "algorithms/params.h"
#include "core/error.h"
#include "core/json.h"
#include "core/options_json.h"

namespace reco::algorithms {

Params parse_params_json(std::string_view algorithm, const nlohmann::json& object) {
  if (!object.is_object()) {
    throw Error(ErrorKind::kUsage, fmt::format("{} parameters must be a JSON object, got {}",
                                               std::string(algorithm), object.type_name()));
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& [name, value] : object.items()) {
    auto text = json_scalar_text(value);
    if (!text) {
      throw Error(
          ErrorKind::kInput,
          fmt::format("{} parameter {} has a JSON {} value {}; expected a string, number "
                      "or boolean",
                      std::string(algorithm), name, value.type_name(), json_preview(value, 60)));
    }
    pairs.emplace_back(name, std::move(*text));
  }
  return parse_params(algorithm, pairs);
}

nlohmann::json params_to_json(const Params& params) {
  return options_to_json(params.options());
}

}  // namespace reco::algorithms
