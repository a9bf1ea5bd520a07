#pragma once
// JSON (nlohmann/json) for the files that build or read JSON values. Its parser and serializer
// are compiled once, in json.cpp: a file that calls these instead of json::parse() and dump()
// does not instantiate them, which is most of what JSON costs to compile.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace reco {

// value.dump(indent): compact with -1. Throws nlohmann::json::type_error on invalid UTF-8.
std::string json_text(const nlohmann::json& value, int indent = -1);
// The same, invalid UTF-8 replaced by U+FFFD instead of throwing (for answers and messages).
std::string json_text_lenient(const nlohmann::json& value, int indent = -1);
// nlohmann::json::parse(text): throws nlohmann::json::parse_error naming the position.
nlohmann::json parse_json(std::string_view text);
// The same, without throwing: nullopt when the text is not JSON.
std::optional<nlohmann::json> try_parse_json(std::string_view text);

}  // namespace reco
