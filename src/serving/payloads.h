#pragma once
// Request and response bodies of the two HTTP protocols reco serves, as pure functions (no I/O,
// no HTTP library) so every rule is unit-tested:
//  - the inference protocol (docs/PROTOCOLS.md): `user_id,item_id` CSV lines or
//    {"instances": [[user_id, item_id], ...]} in, one prediction per pair out, in order;
//  - the warehouse's external-function protocol: {"data": [[row_number, args...], ...]} in,
//    {"data": [[row_number, value], ...]} out, one output row per input row, same order.
// Malformed input throws Error(kInput) whose message names the line, field or row (1-based
// lines as editors count them; JSON positions as paths such as `data[3][2]`).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace reco::serving {

struct IdPair {
  int64_t user = 0;
  int64_t item = 0;
};

// --- ids ---------------------------------------------------------------------------------------

// An id as JSON: 10, 10.0, "10" or "10.0" (core/ids.h rules). Throws Error(kInput) naming
// `what` (e.g. "data[2][2] (user_id)") and the value for anything else, including null.
int64_t id_from_json(const nlohmann::json& value, std::string_view what);

// --- inference protocol ------------------------------------------------------------------------

// `user_id,item_id` per line, no header; "\n" or "\r\n" line ends; one final line end is
// optional; fields may be double-quoted and padded with spaces; a UTF-8 byte-order mark is
// skipped. Empty lines are errors (every line must yield exactly one prediction, or the
// answer's lines would no longer match the request's).
std::vector<IdPair> parse_csv_pairs(std::string_view body);

// {"instances": [[user_id, item_id], ...]} with ids as in id_from_json.
std::vector<IdPair> parse_json_instances(std::string_view body);

// One prediction per line, "\n"-terminated, shortest round-trip decimal form.
std::string format_csv_predictions(std::span<const double> predictions);
// {"predictions":[...]}
std::string format_json_predictions(std::span<const double> predictions);

// --- external-function protocol ----------------------------------------------------------------

// The SQL signature a route implements, for argument checks and messages:
// {"invoke", {"model_name", "user_id", "item_id"}, 3} prints as
// "invoke(model_name, user_id, item_id)"; optional parameters follow the required ones.
struct FunctionSignature {
  std::string name;
  std::vector<std::string> params;
  size_t required = 0;

  std::string display() const;  // "train(input_table, output_table [, options_json])"
};

struct BatchRow {
  size_t index = 0;        // position in the request's data array
  int64_t row_number = 0;  // as sent; echoed in the answer
  nlohmann::json args;     // JSON array of the arguments, missing optional ones absent

  bool has_arg(size_t i) const { return i < args.size() && !args[i].is_null(); }
  // "row 3 (data[1])", the prefix of every message about this row.
  std::string where() const;
  // "row 3 (data[1]), argument 2 (user_id)"
  std::string where(const FunctionSignature& sig, size_t arg) const;
};

// Parses {"data": [[row_number, args...], ...]}. The structure must be exact (it is the
// protocol, not data): a non-object body, a missing or non-array `data`, a row that is not an
// array, a row number that is not a non-negative integer, or a wrong argument count each throw
// Error(kInput) naming the row. Argument values are checked later, row by row.
std::vector<BatchRow> parse_batch(std::string_view body, const FunctionSignature& sig);

// Argument helpers; both throw Error(kInput) naming the row and parameter.
std::string string_arg(const BatchRow& row, const FunctionSignature& sig, size_t arg);
int64_t id_arg(const BatchRow& row, const FunctionSignature& sig, size_t arg);

// {"data":[[row_number, value], ...]} in the given order.
std::string format_batch(std::span<const std::pair<int64_t, nlohmann::json>> rows);

// --- content negotiation -----------------------------------------------------------------------

// "text/csv; charset=UTF-8" -> type "text/csv" (lower case) and parameters (names lower case,
// values unquoted).
struct MediaType {
  std::string type;
  std::vector<std::pair<std::string, std::string>> params;

  std::optional<std::string> param(std::string_view name) const;
};
MediaType parse_media_type(std::string_view header);

// The charsets a body of ids may use: every ASCII-compatible one reco knows (utf-8, us-ascii,
// iso-8859-1 and their aliases). Case-insensitive.
bool is_ascii_compatible_charset(std::string_view charset);

enum class BodyFormat { kCsv, kJson };
// The answer format for an Accept header: nullopt when nothing acceptable is offered;
// `fallback` (the request's format) for a missing header or */*.
std::optional<BodyFormat> negotiate_accept(std::string_view accept, BodyFormat fallback);

// --- compression -------------------------------------------------------------------------------

// Decompresses a gzip (RFC 1952) or zlib/deflate (RFC 1950) body. Throws Error(kInput) for
// corrupt or truncated data, and sets *too_large (returning what it has) once the output
// would exceed max_output, so a small compressed body cannot expand without bound.
std::string inflate_body(std::string_view compressed, bool gzip, size_t max_output,
                         bool* too_large);

}  // namespace reco::serving
