#include "core/options.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "core/error.h"

namespace reco {
namespace {

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string join(const std::vector<std::string>& names, std::string_view sep) {
  std::string out;
  for (size_t k = 0; k < names.size(); ++k) {
    if (k) out += sep;
    out += names[k];
  }
  return out;
}

std::optional<double> parse_double(std::string_view text) {
  double v = 0.0;
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (begin != end && *begin == '+') ++begin;  // from_chars rejects an explicit plus sign
  if (begin == end) return std::nullopt;
  auto [ptr, ec] = std::from_chars(begin, end, v);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

// An integral value written as a decimal ("20.0", "1e2": from JSON and SQL casts), as a double
// so that a huge one still reaches the range check.
std::optional<double> parse_integral_decimal(std::string_view text) {
  const auto d = parse_double(text);
  if (!d || !std::isfinite(*d) || std::trunc(*d) != *d) return std::nullopt;
  return d;
}

// "6291456", "6MB", "6 MiB", "512k": 1024-based multiples.
std::optional<int64_t> parse_bytes(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0) return std::nullopt;
  uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + digits, n);
  if (ec != std::errc()) return std::nullopt;
  const std::string unit = lower(trim(text.substr(digits)));
  uint64_t mult = 0;
  if (unit.empty() || unit == "b") {
    mult = 1;
  } else if (unit == "k" || unit == "kb" || unit == "kib") {
    mult = uint64_t{1} << 10;
  } else if (unit == "m" || unit == "mb" || unit == "mib") {
    mult = uint64_t{1} << 20;
  } else if (unit == "g" || unit == "gb" || unit == "gib") {
    mult = uint64_t{1} << 30;
  } else {
    return std::nullopt;
  }
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(n, mult, &bytes) ||
      bytes > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return std::nullopt;
  }
  return static_cast<int64_t>(bytes);
}

bool integral_type(OptionType t) {
  return t == OptionType::kInt || t == OptionType::kBytes;
}

std::string format_bound(double v, OptionType type) {
  if (!integral_type(type)) return fmt::format("{}", v);
  // The int64 limits are not exact doubles: name them rather than overflow a conversion.
  if (v >= 9223372036854775807.0) return "9223372036854775807";
  if (v <= -9223372036854775808.0) return "-9223372036854775808";
  return fmt::format("{}", static_cast<int64_t>(v));
}

// The range in words, for kOption messages: "1 to 1000", "more than 0, at most 86400".
std::string range_words(const OptionSpec& spec) {
  if (!spec.range_doc.empty()) return spec.range_doc;
  if (!spec.is_numeric() || !spec.min || !spec.max) return spec.range_text();
  const std::string lo = format_bound(*spec.min, spec.type);
  const std::string hi = format_bound(*spec.max, spec.type);
  if (!spec.min_open && !spec.max_open) return fmt::format("{} to {}", lo, hi);
  return fmt::format("{} {}, {} {}", spec.min_open ? "more than" : "at least", lo,
                     spec.max_open ? "less than" : "at most", hi);
}

std::string label_of(const OptionSpec& spec, OptionStyle style, std::string_view subject) {
  if (style == OptionStyle::kParameter) return fmt::format("{} parameter {}", subject, spec.name);
  return subject.empty() ? spec.name : std::string(subject);
}

const char* expected_phrase(OptionType type) {
  switch (type) {
    case OptionType::kInt:
      return "an integer";
    case OptionType::kFloat:
      return "a number";
    case OptionType::kBool:
      return "a boolean";
    case OptionType::kSeconds:
      return "a number of seconds";
    case OptionType::kBytes:
      return "a size in bytes (e.g. 6291456, 512KB, 6MB)";
    case OptionType::kEnum:
    case OptionType::kString:
      break;
  }
  return "text";
}

void check_range(const OptionSpec& spec, double v, const std::string& text, OptionStyle style,
                 std::string_view subject) {
  const bool below = spec.min && (spec.min_open ? v <= *spec.min : v < *spec.min);
  const bool above = spec.max && (spec.max_open ? v >= *spec.max : v > *spec.max);
  if (std::isfinite(v) && !below && !above) return;
  if (style == OptionStyle::kParameter) {
    throw Error(ErrorKind::kInput,
                fmt::format("{}={} is out of range: must be in {}", label_of(spec, style, subject),
                            text, spec.range_text()));
  }
  throw Error(ErrorKind::kUsage,
              fmt::format("{}: {} is out of range ({})", label_of(spec, style, subject), text,
                          range_words(spec)));
}

std::string condition_text(const OptionCondition& c) {
  return c.option + "=" + c.value;
}

}  // namespace

const char* option_type_name(OptionType type) {
  switch (type) {
    case OptionType::kInt:
      return "int";
    case OptionType::kFloat:
      return "float";
    case OptionType::kBool:
      return "bool";
    case OptionType::kEnum:
      return "enum";
    case OptionType::kString:
      return "string";
    case OptionType::kSeconds:
      return "seconds";
    case OptionType::kBytes:
      return "bytes";
  }
  return "?";
}

std::string format_option_value(const OptionValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::string>) {
          return v;
        } else {
          return fmt::format("{}", v);
        }
      },
      value);
}

// --- rows --------------------------------------------------------------------------------------

OptionSpec OptionSpec::integer(std::string name, std::optional<int64_t> def, int64_t min,
                               int64_t max, std::string doc) {
  OptionSpec p;
  p.name = std::move(name);
  p.type = OptionType::kInt;
  if (def) p.default_value = *def;
  p.min = static_cast<double>(min);
  p.max = static_cast<double>(max);
  p.doc = std::move(doc);
  return p;
}

OptionSpec OptionSpec::real(std::string name, std::optional<double> def, double min, double max,
                            std::string doc) {
  OptionSpec p;
  p.name = std::move(name);
  p.type = OptionType::kFloat;
  if (def) p.default_value = *def;
  p.min = min;
  p.max = max;
  p.doc = std::move(doc);
  return p;
}

OptionSpec OptionSpec::boolean(std::string name, bool def, std::string doc) {
  OptionSpec p;
  p.name = std::move(name);
  p.type = OptionType::kBool;
  p.default_value = def;
  p.doc = std::move(doc);
  return p;
}

OptionSpec OptionSpec::choice(std::string name, std::string def, std::vector<std::string> choices,
                              std::string doc) {
  OptionSpec p;
  p.name = std::move(name);
  p.type = OptionType::kEnum;
  p.default_value = std::move(def);
  p.choices = std::move(choices);
  p.doc = std::move(doc);
  return p;
}

OptionSpec OptionSpec::text(std::string name, std::optional<std::string> def, std::string doc) {
  OptionSpec p;
  p.name = std::move(name);
  p.type = OptionType::kString;
  if (def) p.default_value = std::move(*def);
  p.doc = std::move(doc);
  return p;
}

OptionSpec OptionSpec::seconds(std::string name, std::optional<double> def, double min, double max,
                               std::string doc) {
  OptionSpec p = real(std::move(name), def, min, max, std::move(doc));
  p.type = OptionType::kSeconds;
  return p;
}

OptionSpec OptionSpec::bytes(std::string name, std::optional<int64_t> def, int64_t min, int64_t max,
                             std::string doc) {
  OptionSpec p = integer(std::move(name), def, min, max, std::move(doc));
  p.type = OptionType::kBytes;
  return p;
}

OptionSpec OptionSpec::derived_from(std::string option) const {
  OptionSpec p = *this;
  p.default_from = std::move(option);
  return p;
}

OptionSpec OptionSpec::only_when(std::string option, std::string value) const {
  OptionSpec p = *this;
  p.applies_when = OptionCondition{std::move(option), std::move(value)};
  return p;
}

OptionSpec OptionSpec::default_when(std::string option, std::string value, OptionValue def) const {
  OptionSpec p = *this;
  p.conditional_defaults.push_back({OptionCondition{std::move(option), std::move(value)}, def});
  return p;
}

OptionSpec OptionSpec::open_min() const {
  OptionSpec p = *this;
  p.min_open = true;
  return p;
}

OptionSpec OptionSpec::with_flag(std::string names, std::string env_var) const {
  OptionSpec p = *this;
  p.flag = std::move(names);
  p.env = std::move(env_var);
  return p;
}

OptionSpec OptionSpec::with_default_doc(std::string text) const {
  OptionSpec p = *this;
  p.default_doc = std::move(text);
  return p;
}

OptionSpec OptionSpec::with_range_doc(std::string text) const {
  OptionSpec p = *this;
  p.range_doc = std::move(text);
  return p;
}

OptionSpec OptionSpec::with_check(std::function<void(const OptionValue&)> f) const {
  OptionSpec p = *this;
  p.check = std::move(f);
  return p;
}

bool OptionSpec::is_numeric() const {
  return type == OptionType::kInt || type == OptionType::kFloat || type == OptionType::kSeconds ||
         type == OptionType::kBytes;
}

std::string OptionSpec::range_text() const {
  if (!range_doc.empty()) return range_doc;
  switch (type) {
    case OptionType::kBool:
      return "true|false";
    case OptionType::kEnum:
      return join(choices, "|");
    case OptionType::kString:
      return "";
    case OptionType::kInt:
    case OptionType::kFloat:
    case OptionType::kSeconds:
    case OptionType::kBytes:
      break;
  }
  const std::string lo = min ? format_bound(*min, type) : "-inf";
  const std::string hi = max ? format_bound(*max, type) : "inf";
  return fmt::format("{}{}, {}{}", min_open ? "(" : "[", lo, hi, max_open ? ")" : "]");
}

std::string OptionSpec::default_text() const {
  if (!default_from.empty()) return default_from;
  if (!default_value) return default_doc;
  std::string out = format_option_value(*default_value);
  if (type == OptionType::kString && out.empty()) out = default_doc.empty() ? "\"\"" : default_doc;
  for (const auto& [cond, value] : conditional_defaults) {
    out += fmt::format(" ({} when {})", format_option_value(value), condition_text(cond));
  }
  return out;
}

std::string OptionSpec::long_flag() const {
  size_t pos = 0;
  while (pos < flag.size()) {
    size_t end = flag.find(',', pos);
    if (end == std::string::npos) end = flag.size();
    const std::string part = trim(std::string_view(flag).substr(pos, end - pos));
    if (part.rfind("--", 0) == 0) return part;
    pos = end + 1;
  }
  std::string out = "--" + name;
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

// --- values ------------------------------------------------------------------------------------

const OptionValue* OptionValues::find(std::string_view name) const {
  for (const auto& [n, v] : values_) {
    if (n == name) return &v;
  }
  return nullptr;
}

bool OptionValues::explicitly_set(std::string_view name) const {
  return std::find(explicit_names_.begin(), explicit_names_.end(), name) != explicit_names_.end();
}

const OptionValue& OptionValues::get(std::string_view name, size_t index, const char* type) const {
  const OptionValue* v = find(name);
  if (v == nullptr) {
    throw Error(ErrorKind::kInternal, fmt::format("option {} is not set", std::string(name)));
  }
  if (v->index() != index) {
    throw Error(ErrorKind::kInternal,
                fmt::format("option {} is not of type {}", std::string(name), type));
  }
  return *v;
}

int64_t OptionValues::get_int(std::string_view name) const {
  return std::get<int64_t>(get(name, 0, "int"));
}
double OptionValues::get_float(std::string_view name) const {
  return std::get<double>(get(name, 1, "float"));
}
bool OptionValues::get_bool(std::string_view name) const {
  return std::get<bool>(get(name, 2, "bool"));
}
const std::string& OptionValues::get_string(std::string_view name) const {
  return std::get<std::string>(get(name, 3, "string"));
}

// --- parsing -----------------------------------------------------------------------------------

std::optional<OptionValue> parse_option_type(const OptionSpec& spec, std::string_view raw) {
  const std::string text = trim(raw);
  switch (spec.type) {
    case OptionType::kInt: {
      // Exact for every int64 (a double would round above 2^53); an integral decimal ("20.0",
      // "1e2") as a double so that a huge one still reaches the range check.
      int64_t exact = 0;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), exact);
      if (ec == std::errc() && ptr == text.data() + text.size() && !text.empty()) return exact;
      if (const auto d = parse_integral_decimal(text)) return *d;
      return std::nullopt;
    }
    case OptionType::kBytes:
      if (const auto v = parse_bytes(text)) return *v;
      return std::nullopt;
    case OptionType::kFloat:
    case OptionType::kSeconds:
      if (const auto d = parse_double(text)) return *d;
      return std::nullopt;
    case OptionType::kBool: {
      const std::string l = lower(text);
      if (l == "true" || l == "1" || l == "yes" || l == "on") return true;
      if (l == "false" || l == "0" || l == "no" || l == "off") return false;
      return std::nullopt;
    }
    case OptionType::kEnum: {
      const auto it = std::find(spec.choices.begin(), spec.choices.end(), lower(text));
      if (it == spec.choices.end()) return std::nullopt;
      return *it;
    }
    case OptionType::kString:
      return std::string(raw);  // text is taken as given (a name may have meaningful blanks)
  }
  return std::nullopt;
}

const char* option_type_phrase(const OptionSpec& spec) {
  return expected_phrase(spec.type);
}

OptionValue parse_option_value(const OptionSpec& spec, std::string_view raw, OptionStyle style,
                               std::string_view subject) {
  const std::string text = trim(raw);
  const std::string label = label_of(spec, style, subject);
  std::optional<OptionValue> value = parse_option_type(spec, raw);
  if (!value) {
    const bool parameter = style == OptionStyle::kParameter;
    const ErrorKind kind = parameter ? ErrorKind::kInput : ErrorKind::kUsage;
    if (spec.type == OptionType::kEnum) {
      throw Error(kind, fmt::format("{}{}'{}' is not one of {}", label, parameter ? "=" : ": ",
                                    std::string(raw), join(spec.choices, ", ")));
    }
    if (parameter) {
      throw Error(kind, fmt::format("{}='{}' is not {} (valid: {})", label, std::string(raw),
                                    expected_phrase(spec.type), spec.range_text()));
    }
    throw Error(kind, fmt::format("{}: '{}' is not {}", label, std::string(raw),
                                  expected_phrase(spec.type)));
  }
  if (spec.type == OptionType::kInt && std::holds_alternative<double>(*value)) {
    const double d = std::get<double>(*value);  // an integral decimal
    check_range(spec, d, text, style, subject);
    value = static_cast<int64_t>(d);
  } else if (spec.is_numeric()) {
    const double d = std::holds_alternative<int64_t>(*value)
                         ? static_cast<double>(std::get<int64_t>(*value))
                         : std::get<double>(*value);
    check_range(spec, d, text, style, subject);
  }
  if (spec.check) spec.check(*value);
  return *value;
}

const OptionSpec* find_option(const OptionTable& table, std::string_view name) {
  for (const auto& spec : table) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::string option_names(const OptionTable& table) {
  std::vector<std::string> names;
  for (const auto& spec : table) names.push_back(spec.name);
  return join(names, ", ");
}

OptionValues resolve_options(const OptionTable& table,
                             const std::vector<std::pair<std::string, std::string>>& given_pairs,
                             OptionStyle style, std::string_view subject) {
  const bool parameter = style == OptionStyle::kParameter;
  auto label = [&](const std::string& name) {
    return parameter ? fmt::format("{} parameter {}", subject, name) : name;
  };
  // Parse what was given, keyed by position in the table.
  std::vector<std::optional<OptionValue>> given(table.size());
  for (const auto& pair : given_pairs) {
    const auto& [name, text] = pair;
    const auto it = std::find_if(table.begin(), table.end(),
                                 [&](const OptionSpec& p) { return p.name == pair.first; });
    if (it == table.end()) {
      throw Error(ErrorKind::kUsage,
                  parameter ? fmt::format("unknown {} parameter '{}'; valid parameters: {}",
                                          subject, name, option_names(table))
                            : fmt::format("unknown option '{}'; valid options: {}", name,
                                          option_names(table)));
    }
    const size_t k = static_cast<size_t>(it - table.begin());
    if (given[k]) {
      throw Error(ErrorKind::kUsage, fmt::format("{} is given more than once", label(name)));
    }
    given[k] = parse_option_value(*it, text, style, parameter ? subject : std::string_view{});
  }

  // Resolve in table order: conditions and default_from refer to earlier rows.
  OptionValues values;
  auto resolved = [&](const std::string& name) -> const OptionValue& {
    const OptionValue* v = values.find(name);
    if (v == nullptr) {
      throw Error(ErrorKind::kInternal,
                  fmt::format("option table: {} refers to a later, inapplicable or unset option",
                              label(name)));
    }
    return *v;
  };
  auto holds = [&](const OptionCondition& c) {
    const OptionValue& v = resolved(c.option);
    return std::holds_alternative<std::string>(v) && std::get<std::string>(v) == c.value;
  };
  for (size_t k = 0; k < table.size(); ++k) {
    const OptionSpec& p = table[k];
    if (p.applies_when && !holds(*p.applies_when)) {
      if (given[k]) {
        throw Error(ErrorKind::kUsage,
                    fmt::format("{} applies only with {} (here {}={})", label(p.name),
                                condition_text(*p.applies_when), p.applies_when->option,
                                format_option_value(resolved(p.applies_when->option))));
      }
      continue;
    }
    std::optional<OptionValue> value;
    if (given[k]) {
      value = *given[k];
      values.explicit_names_.push_back(p.name);
    } else if (!p.default_from.empty()) {
      value = resolved(p.default_from);
    } else {
      value = p.default_value;
      for (const auto& [cond, v] : p.conditional_defaults) {
        if (holds(cond)) {
          value = v;
          break;
        }
      }
    }
    if (value) values.values_.emplace_back(p.name, std::move(*value));
  }
  return values;
}

// --- help --------------------------------------------------------------------------------------

namespace {

struct HelpRow {
  std::string name, type, def, range, doc;
};

std::vector<HelpRow> help_rows(const OptionTable& table) {
  std::vector<HelpRow> rows;
  for (const auto& p : table) {
    std::string doc = p.doc;
    if (p.applies_when) doc += fmt::format(" (only with {})", condition_text(*p.applies_when));
    rows.push_back({p.name, option_type_name(p.type), p.default_text(), p.range_text(), doc});
  }
  return rows;
}

}  // namespace

std::string options_help(const OptionTable& table, std::string_view indent,
                         std::string_view first_column) {
  std::vector<HelpRow> rows = help_rows(table);
  rows.insert(rows.begin(),
              HelpRow{std::string(first_column), "type", "default", "range", "description"});
  size_t w_name = 0, w_type = 0, w_def = 0, w_range = 0;
  for (const auto& r : rows) {
    w_name = std::max(w_name, r.name.size());
    w_type = std::max(w_type, r.type.size());
    w_def = std::max(w_def, r.def.size());
    w_range = std::max(w_range, r.range.size());
  }
  std::string out;
  for (const auto& r : rows) {
    out += fmt::format("{}{:<{}}  {:<{}}  {:<{}}  {:<{}}  {}\n", indent, r.name, w_name, r.type,
                       w_type, r.def, w_def, r.range, w_range, r.doc);
  }
  return out;
}

std::string options_markdown(const OptionTable& table, std::string_view first_column) {
  auto cell = [](std::string s) {
    std::string out;
    for (char c : s) {
      if (c == '|') out += '\\';
      out += c;
    }
    return out;
  };
  auto code = [&](const std::string& s) {
    return s.empty() ? std::string() : fmt::format("`{}`", cell(s));
  };
  const bool flags = std::any_of(table.begin(), table.end(),
                                 [](const OptionSpec& row) { return !row.flag.empty(); });
  std::string out = fmt::format("| {} |{} type | default | range | description |\n", first_column,
                                flags ? " flag |" : "");
  out += flags ? "|---|---|---|---|---|---|\n" : "|---|---|---|---|---|\n";
  const std::vector<HelpRow> rows = help_rows(table);
  for (size_t k = 0; k < rows.size(); ++k) {
    const HelpRow& r = rows[k];
    const std::string flag = flags ? fmt::format(" {} |", code(table[k].flag)) : "";
    out += fmt::format("| `{}` |{} {} | {} | {} | {} |\n", r.name, flag, r.type, code(r.def),
                       code(r.range), cell(r.doc));
  }
  return out;
}

}  // namespace reco
