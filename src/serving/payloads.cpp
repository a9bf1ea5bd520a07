#include "serving/payloads.h"
#include "core/json.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "core/error.h"
#include "core/ids.h"

namespace reco::serving {

using nlohmann::json;

namespace {

[[noreturn]] void bad(const std::string& message) {
  throw Error(ErrorKind::kInput, message);
}

// A value as it appears in a message: JSON text, cut short so a huge value cannot flood logs.
std::string show(const json& value) {
  return json_preview(value, 40);
}

std::string show_text(std::string_view text) {
  std::string out = json_text_lenient(json(std::string(text.substr(0, 40))));
  if (text.size() > 40) out.insert(out.size() - 1, "...");
  return out;
}

const char* json_type(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::binary:
      return "binary data";
    case json::value_t::discarded:
      return "nothing";
    default:
      return "a number";
  }
}

// Parses a whole body as JSON; a syntax error names line and column.
json parse_json_body(std::string_view body, std::string_view expected) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos)
    bad(fmt::format("empty body: expected {}", expected));
  try {
    return parse_json(body);
  } catch (const json::parse_error& e) {
    size_t line = 1, column = 1;
    const size_t end = std::min<size_t>(e.byte > 0 ? e.byte - 1 : 0, body.size());
    for (size_t i = 0; i < end; ++i) {
      if (body[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    std::string what = e.what();
    // nlohmann's text is "[json.exception.parse_error.101] parse error at line 1, column 3:
    // syntax error while parsing value - invalid literal; last read: 'x'": keep the reason.
    if (auto pos = what.find(": syntax error"); pos != std::string::npos)
      what = what.substr(pos + 2);
    else if (auto p2 = what.rfind("] "); p2 != std::string::npos)
      what = what.substr(p2 + 2);
    bad(fmt::format("invalid JSON at line {}, column {}: {}", line, column, what));
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits one CSV line into fields; double quotes may enclose a field ("" is a quote).
std::vector<std::string> split_csv_line(std::string_view line, size_t line_no) {
  std::vector<std::string> fields;
  size_t i = 0;
  for (;;) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::string field;
    if (i < line.size() && line[i] == '"') {
      const size_t open = i++;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        field += line[i++];
      }
      if (!closed)
        bad(fmt::format("line {}, column {}: the quote that opens field {} is never closed",
                        line_no, open + 1, fields.size() + 1));
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i < line.size() && line[i] != ',')
        bad(fmt::format("line {}, column {}: unexpected text after the closing quote of field {}",
                        line_no, i + 1, fields.size() + 1));
    } else {
      const size_t start = i;
      while (i < line.size() && line[i] != ',') ++i;
      field = std::string(trim(line.substr(start, i - start)));
    }
    fields.push_back(std::move(field));
    if (i >= line.size()) break;
    ++i;  // the comma
  }
  return fields;
}

void append_number(std::string& out, double value) {
  fmt::format_to(std::back_inserter(out), "{}", value);
}

}  // namespace

// --- ids ---------------------------------------------------------------------------------------

namespace {

// The id, or nullopt when the value is not one (the callers then build the message, which is
// too costly to format for every valid id of a large batch).
std::optional<int64_t> try_id_from_json(const json& value) {
  switch (value.type()) {
    case json::value_t::number_integer:
      return value.get<int64_t>();
    case json::value_t::number_unsigned:
      if (value.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)) return value.get<int64_t>();
      return std::nullopt;
    case json::value_t::number_float:
      return id_from_double(value.get<double>());
    case json::value_t::string:
      return id_from_text(value.get_ref<const std::string&>());
    default:
      return std::nullopt;
  }
}

}  // namespace

int64_t id_from_json(const json& value, std::string_view what) {
  std::optional<int64_t> id;
  switch (value.type()) {
    case json::value_t::number_integer:
      return value.get<int64_t>();
    case json::value_t::number_unsigned:
      if (value.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)) return value.get<int64_t>();
      break;
    case json::value_t::number_float:
      id = id_from_double(value.get<double>());
      break;
    case json::value_t::string:
      id = id_from_text(value.get_ref<const std::string&>());
      break;
    case json::value_t::null:
      bad(fmt::format("{}: expected an id, got null", what));
    default:
      bad(fmt::format("{}: expected an id (a number or a string such as \"10\"), got {}", what,
                      json_type(value)));
  }
  if (!id)
    bad(
        fmt::format("{}: {} is not an integer id (expected a whole number such as 10, 10.0, "
                    "\"10\" or \"10.0\")",
                    what, show(value)));
  return *id;
}

// --- inference protocol ------------------------------------------------------------------------

std::vector<IdPair> parse_csv_pairs(std::string_view body) {
  if (body.size() >= 3 && body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);
  if (body.empty()) bad("empty body: expected one user_id,item_id pair per line");
  // One final line end is optional; anything after it would be an empty line.
  if (body.back() == '\n') {
    body.remove_suffix(1);
    if (!body.empty() && body.back() == '\r') body.remove_suffix(1);
  }
  std::vector<IdPair> pairs;
  pairs.reserve(static_cast<size_t>(std::count(body.begin(), body.end(), '\n')) + 1);
  size_t line_no = 0;
  size_t pos = 0;
  while (pos <= body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++line_no;
    if (trim(line).empty())
      bad(
          fmt::format("line {} is empty: every line must be user_id,item_id (one prediction "
                      "per line, so empty lines are not skipped)",
                      line_no));
    const auto fields = split_csv_line(line, line_no);
    if (fields.size() != 2)
      bad(fmt::format("line {}: expected 2 fields (user_id,item_id), found {}: {}", line_no,
                      fields.size(), show_text(line)));
    IdPair pair;
    for (size_t f = 0; f < 2; ++f) {
      const auto id = id_from_text(fields[f]);
      if (!id) {
        std::string hint;
        if (line_no == 1 && !id_from_text(fields[1 - f]))
          hint = " (the body must not have a header line)";
        bad(fmt::format("line {}, field {} ({}): {} is not an integer id{}", line_no, f + 1,
                        f == 0 ? "user_id" : "item_id", show_text(fields[f]), hint));
      }
      (f == 0 ? pair.user : pair.item) = *id;
    }
    pairs.push_back(pair);
    pos = end + 1;
  }
  return pairs;
}

std::vector<IdPair> parse_json_instances(std::string_view body) {
  const json doc = parse_json_body(body, R"({"instances": [[user_id, item_id], ...]})");
  if (!doc.is_object())
    bad(fmt::format(R"(the body must be a JSON object {{"instances": [[user_id, item_id], ...]}}, )"
                    "got {}",
                    json_type(doc)));
  const auto it = doc.find("instances");
  if (it == doc.end()) bad(R"(missing field "instances": expected [[user_id, item_id], ...])");
  if (!it->is_array())
    bad(fmt::format("instances: expected an array of [user_id, item_id] pairs, got {}",
                    json_type(*it)));
  std::vector<IdPair> pairs;
  pairs.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    const json& inst = (*it)[i];
    if (!inst.is_array() || inst.size() != 2)
      bad(fmt::format("instances[{}]: expected [user_id, item_id], got {}", i,
                      inst.is_array() ? fmt::format("an array of {}", inst.size())
                                      : std::string(json_type(inst))));
    const auto user = try_id_from_json(inst[0]);
    const auto item = try_id_from_json(inst[1]);
    if (!user) id_from_json(inst[0], fmt::format("instances[{}][0] (user_id)", i));  // throws
    if (!item) id_from_json(inst[1], fmt::format("instances[{}][1] (item_id)", i));  // throws
    pairs.push_back({*user, *item});
  }
  return pairs;
}

std::string format_csv_predictions(std::span<const double> predictions) {
  std::string out;
  out.reserve(predictions.size() * 8);
  for (double p : predictions) {
    append_number(out, p);
    out += '\n';
  }
  return out;
}

std::string format_json_predictions(std::span<const double> predictions) {
  std::string out = R"({"predictions":[)";
  out.reserve(predictions.size() * 8 + 20);
  for (size_t i = 0; i < predictions.size(); ++i) {
    if (i) out += ',';
    append_number(out, predictions[i]);
  }
  out += "]}";
  return out;
}

// --- external-function protocol ----------------------------------------------------------------

std::string FunctionSignature::display() const {
  std::string out = name + "(";
  for (size_t i = 0; i < params.size(); ++i) {
    if (i == required && i > 0) out += " [";
    if (i > 0) out += ", ";
    out += params[i];
  }
  if (required < params.size() && required > 0) out += "]";
  return out + ")";
}

std::string BatchRow::where() const {
  return fmt::format("row {} (data[{}])", row_number, index);
}

std::string BatchRow::where(const FunctionSignature& sig, size_t arg) const {
  return fmt::format("{}, argument {} ({})", where(), arg + 1, sig.params.at(arg));
}

std::vector<BatchRow> parse_batch(std::string_view body, const FunctionSignature& sig) {
  json doc = parse_json_body(body, R"({"data": [[row_number, args...], ...]})");
  if (!doc.is_object())
    bad(fmt::format(R"(the body must be a JSON object {{"data": [[row_number, args...], ...]}}, )"
                    "got {}",
                    json_type(doc)));
  auto it = doc.find("data");
  if (it == doc.end())
    bad(R"(missing field "data": expected {"data": [[row_number, args...], ...]})");
  if (!it->is_array()) bad(fmt::format("data: expected an array of rows, got {}", json_type(*it)));
  std::vector<BatchRow> rows;
  rows.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    json& r = (*it)[i];
    if (!r.is_array())
      bad(fmt::format("data[{}]: expected a row [row_number, {}], got {}", i,
                      fmt::join(sig.params, ", "), json_type(r)));
    if (r.empty()) bad(fmt::format("data[{}]: empty row: the row number is missing", i));
    const json& n = r[0];
    if (!n.is_number_integer() ||
        (n.is_number_integer() && !n.is_number_unsigned() && n.get<int64_t>() < 0))
      bad(fmt::format("data[{}][0]: the row number must be a non-negative integer, got {}", i,
                      n.is_null() ? "null" : show(n)));
    if (n.is_number_unsigned() && n.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      bad(fmt::format("data[{}][0]: the row number {} is too large", i, show(n)));
    const size_t nargs = r.size() - 1;
    if (nargs < sig.required || nargs > sig.params.size()) {
      const std::string takes = sig.required == sig.params.size()
                                    ? fmt::format("{}", sig.required)
                                    : fmt::format("{} to {}", sig.required, sig.params.size());
      bad(fmt::format("data[{}] (row {}): {} takes {} argument{}, got {}", i, n.get<int64_t>(),
                      sig.display(), takes, sig.params.size() == 1 ? "" : "s", nargs));
    }
    BatchRow row;
    row.index = i;
    row.row_number = n.get<int64_t>();
    row.args = json::array();
    for (size_t a = 1; a < r.size(); ++a) row.args.push_back(std::move(r[a]));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string string_arg(const BatchRow& row, const FunctionSignature& sig, size_t arg) {
  if (arg >= row.args.size() || row.args[arg].is_null())
    bad(fmt::format("{}: expected a string, got null", row.where(sig, arg)));
  const json& v = row.args[arg];
  if (!v.is_string())
    bad(fmt::format("{}: expected a string, got {} {}", row.where(sig, arg), json_type(v),
                    show(v)));
  return v.get<std::string>();
}

int64_t id_arg(const BatchRow& row, const FunctionSignature& sig, size_t arg) {
  const json& v = arg < row.args.size() ? row.args[arg] : json();
  if (const auto id = try_id_from_json(v)) return *id;
  return id_from_json(v, row.where(sig, arg));  // throws, naming row and parameter
}

std::string format_batch(std::span<const std::pair<int64_t, json>> rows) {
  std::string out = R"({"data":[)";
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i) out += ',';
    out += '[';
    out += std::to_string(rows[i].first);
    out += ',';
    const json& v = rows[i].second;
    if (v.is_number_float()) {
      append_number(out, v.get<double>());  // shortest form, like the CSV answers
    } else {
      out += json_text_lenient(v);
    }
    out += ']';
  }
  out += "]}";
  return out;
}

// --- content negotiation -----------------------------------------------------------------------

std::optional<std::string> MediaType::param(std::string_view name) const {
  for (const auto& [k, v] : params)
    if (k == name) return v;
  return std::nullopt;
}

MediaType parse_media_type(std::string_view header) {
  MediaType mt;
  size_t semi = header.find(';');
  mt.type = lower(trim(header.substr(0, semi)));
  while (semi != std::string_view::npos) {
    header.remove_prefix(semi + 1);
    semi = header.find(';');
    std::string_view p = trim(header.substr(0, semi));
    if (p.empty()) continue;
    const size_t eq = p.find('=');
    std::string name = lower(trim(p.substr(0, eq)));
    std::string value;
    if (eq != std::string_view::npos) {
      std::string_view v = trim(p.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      value = std::string(v);
    }
    mt.params.emplace_back(std::move(name), std::move(value));
  }
  return mt;
}

bool is_ascii_compatible_charset(std::string_view charset) {
  static const char* const known[] = {"utf-8",        "utf8",      "us-ascii", "ascii",
                                      "iso-8859-1",   "iso8859-1", "latin1",   "latin-1",
                                      "windows-1252", "cp1252"};
  const std::string c = lower(charset);
  return std::any_of(std::begin(known), std::end(known), [&](const char* k) { return c == k; });
}

std::optional<BodyFormat> negotiate_accept(std::string_view accept, BodyFormat fallback) {
  if (trim(accept).empty()) return fallback;
  // The first acceptable entry in the client's order; q-values of 0 exclude a type.
  std::optional<BodyFormat> wildcard;
  size_t pos = 0;
  while (pos <= accept.size()) {
    size_t comma = accept.find(',', pos);
    if (comma == std::string_view::npos) comma = accept.size();
    const MediaType mt = parse_media_type(accept.substr(pos, comma - pos));
    pos = comma + 1;
    if (const auto q = mt.param("q");
        q && (*q == "0" || *q == "0.0" || *q == "0.00" || *q == "0.000"))
      continue;
    if (mt.type == "text/csv") return BodyFormat::kCsv;
    if (mt.type == "application/json") return BodyFormat::kJson;
    if (mt.type == "*/*" || mt.type == "text/*" || mt.type == "application/*") {
      if (!wildcard) {
        if (mt.type == "*/*")
          wildcard = fallback;
        else if (mt.type == "text/*")
          wildcard = BodyFormat::kCsv;
        else
          wildcard = BodyFormat::kJson;
      }
    }
  }
  return wildcard;
}

// --- compression -------------------------------------------------------------------------------

std::string inflate_body(std::string_view compressed, bool gzip, size_t max_output,
                         bool* too_large) {
  *too_large = false;
  const char* kind = gzip ? "gzip" : "deflate";
  z_stream zs{};
  // 16 + MAX_WBITS: gzip wrapper only; MAX_WBITS: zlib wrapper (HTTP's "deflate").
  if (inflateInit2(&zs, gzip ? 16 + MAX_WBITS : MAX_WBITS) != Z_OK)
    throw Error(ErrorKind::kInternal, "cannot initialise zlib");
  std::string out;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  zs.avail_in = static_cast<uInt>(compressed.size());
  char buf[64 * 1024];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_STREAM_ERROR || rc == Z_NEED_DICT || rc == Z_DATA_ERROR || rc == Z_MEM_ERROR) {
      const std::string msg = zs.msg ? zs.msg : "invalid data";
      inflateEnd(&zs);
      bad(
          fmt::format("the request body is not valid {} data (Content-Encoding: {}): {} at byte "
                      "{}",
                      kind, kind, msg, compressed.size() - zs.avail_in));
    }
    const size_t produced = sizeof(buf) - zs.avail_out;
    if (out.size() + produced > max_output) {
      inflateEnd(&zs);
      *too_large = true;
      return out;
    }
    out.append(buf, produced);
    if (rc == Z_BUF_ERROR || (rc == Z_OK && zs.avail_in == 0 && produced == 0)) {
      inflateEnd(&zs);
      bad(
          fmt::format("the {} request body is truncated: the compressed stream ends before its "
                      "end marker ({} bytes received)",
                      kind, compressed.size()));
    }
  }
  const size_t trailing = zs.avail_in;
  inflateEnd(&zs);
  if (trailing > 0)
    bad(fmt::format("the {} request body has {} bytes after the end of the compressed stream", kind,
                    trailing));
  return out;
}

}  // namespace reco::serving
