#pragma once
// JSON (nlohmann/json) for the files that build or read JSON values. Its parser and serializer
// are compiled once, in json.cpp: a file that calls these instead of json::parse() and dump()
// does not instantiate them, which is most of what JSON costs to compile.
//
// Untrusted text: parse_json and try_parse_json refuse nesting deeper than kMaxJsonDepth before
// the parser runs (a linear scan, no recursion), so no value reco holds is deeper than that and
// the recursive serializer is safe on it; json_preview shows a value of any size or depth
// without recursion and without serializing more than it prints.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace reco {

// Arrays and objects nested deeper than this are a parse error (the external-function protocol
// nests 2 levels; job options 3).
inline constexpr size_t kMaxJsonDepth = 64;

// value.dump(indent): compact with -1. Throws nlohmann::json::type_error on invalid UTF-8.
std::string json_text(const nlohmann::json& value, int indent = -1);
// The same, invalid UTF-8 replaced by U+FFFD instead of throwing (for answers and messages).
std::string json_text_lenient(const nlohmann::json& value, int indent = -1);
// nlohmann::json::parse(text): throws nlohmann::json::parse_error naming the position, also for
// nesting deeper than kMaxJsonDepth ("nesting deeper than 64 levels") and for a number beyond
// double's range (which nlohmann reports as out_of_range).
nlohmann::json parse_json(std::string_view text);
// The same, without throwing: nullopt when the text is not JSON or is nested too deep.
std::optional<nlohmann::json> try_parse_json(std::string_view text);
// The byte offset (1-based, as parse_error::byte) of the bracket that opens level
// max_depth + 1, or 0 when the text nests no deeper than max_depth. Strings are skipped.
size_t json_depth_violation(std::string_view text, size_t max_depth = kMaxJsonDepth);
// Compact JSON text of `value`, cut to at most max_chars characters plus "..." (for messages
// and logs): iterative, so neither depth nor size can exhaust the stack or memory.
// The JSON objects of an append-only JSON-lines file (core/fs.h append_line_durable), in order:
// a last line without its newline (torn by a crash) and lines that are not JSON objects are
// skipped and counted. A missing file has none.
struct JsonLines {
  std::vector<nlohmann::json> objects;
  size_t skipped = 0;
};
JsonLines read_json_lines(const std::filesystem::path& path);

std::string json_preview(const nlohmann::json& value, size_t max_chars = 40);

}  // namespace reco
