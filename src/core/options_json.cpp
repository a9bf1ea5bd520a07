#include "core/options_json.h"
#include "core/json.h"

#include <fmt/format.h>

namespace reco {

std::optional<std::string> json_scalar_text(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_number_integer()) return json_text(value);
  if (value.is_number_float()) return fmt::format("{}", value.get<double>());
  return std::nullopt;
}

nlohmann::json option_value_json(const OptionValue& value) {
  return std::visit([](const auto& v) { return nlohmann::json(v); }, value);
}

nlohmann::json options_to_json(const OptionValues& values) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, value] : values.values()) out[name] = option_value_json(value);
  return out;
}

}  // namespace reco
