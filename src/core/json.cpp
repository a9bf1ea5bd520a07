#include "core/json.h"

namespace reco {

std::string json_text(const nlohmann::json& value, int indent) {
  return value.dump(indent);
}

std::string json_text_lenient(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json parse_json(std::string_view text) {
  return nlohmann::json::parse(text.begin(), text.end());
}

std::optional<nlohmann::json> try_parse_json(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

}  // namespace reco
