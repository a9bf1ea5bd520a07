#pragma once
// JSON for option tables (core/options.h), apart so that only the files converting JSON
// compile nlohmann/json.

#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "core/options.h"

namespace reco {

// A JSON scalar as option text: a string as it is, a number as written ("5", "0.01"), a boolean
// as true/false. nullopt for null, arrays and objects.
std::optional<std::string> json_scalar_text(const nlohmann::json& value);
// Effective values as a JSON object; keys sorted, so the text is deterministic.
nlohmann::json options_to_json(const OptionValues& values);
// One value as JSON (int, number, bool or string).
nlohmann::json option_value_json(const OptionValue& value);

}  // namespace reco
