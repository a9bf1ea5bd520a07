#pragma once
// Option tables. Every setting of an algorithm, a training job or the server is declared once,
// as a row: name, type, default, valid range, one line of help and, for the command line, its
// flag. Parsing (from NAME=VALUE text and, in options_json.h, from JSON), validation, defaults,
// help text, the README tables and the JSON recorded with a model are all generated from the
// rows, so they cannot disagree with each other.
//
// Rows may depend on earlier rows of the same table: a default taken from another option
// (lr_bu defaults to lr_all), a default that changes with an enum (n_epochs 20 with
// method=sgd), an option that only applies under an enum value (reg_u only with method=als).

#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace reco {

enum class OptionType {
  kInt,      // integer
  kFloat,    // real number
  kBool,     // true|false (also 1/0, yes/no, on/off)
  kEnum,     // one of the row's choices
  kString,   // any text (the row's check may restrict it)
  kSeconds,  // a duration in seconds, e.g. 1.5
  kBytes,    // a size in bytes: 6291456, 6MB, 512KB (1024-based; B, KB, MB, GB, KiB, MiB, GiB)
};
const char* option_type_name(OptionType type);

// int64_t for kInt and kBytes, double for kFloat and kSeconds, bool for kBool, std::string for
// kEnum and kString.
using OptionValue = std::variant<int64_t, double, bool, std::string>;
std::string format_option_value(const OptionValue& value);

struct OptionCondition {
  std::string option;
  std::string value;
};

// How the messages about a table's options read.
enum class OptionStyle {
  // Algorithm hyperparameters: "svd parameter n_factors=0 is out of range: must be in [1, 4096]".
  kParameter,
  // Job and server settings: "top_k: 0 is out of range (1 to 1000)".
  kOption,
};

struct OptionSpec {
  std::string name;  // snake_case: the JSON key and the --set NAME
  OptionType type = OptionType::kString;
  std::optional<OptionValue> default_value;  // nullopt: no fixed default (default_doc says why)
  std::string default_doc;   // what leaving the option out means, shown instead of a value
  std::string default_from;  // the default is the effective value of this earlier option
  std::vector<std::pair<OptionCondition, OptionValue>> conditional_defaults;
  std::optional<OptionCondition> applies_when;
  // Numeric range (in the option's unit); an open bound excludes the value itself.
  std::optional<double> min, max;
  bool min_open = false;
  bool max_open = false;
  std::string range_doc;             // replaces the computed range text in help and messages
  std::vector<std::string> choices;  // kEnum
  std::string doc;                   // one line of help
  // Command line: its own flag ("-k,--folds"); empty when it is only reachable through a
  // command's --set NAME=VALUE. An environment variable read when the flag is absent.
  std::string flag;
  std::string env;
  // For a flag that takes no value (--no-access-log): the value its presence means ("false").
  std::string flag_value;
  // Validation beyond type and range (e.g. a lookup in a registry); throws reco::Error.
  std::function<void(const OptionValue&)> check;

  static OptionSpec integer(std::string name, std::optional<int64_t> def, int64_t min, int64_t max,
                            std::string doc);
  static OptionSpec real(std::string name, std::optional<double> def, double min, double max,
                         std::string doc);
  static OptionSpec boolean(std::string name, bool def, std::string doc);
  static OptionSpec choice(std::string name, std::string def, std::vector<std::string> choices,
                           std::string doc);
  static OptionSpec text(std::string name, std::optional<std::string> def, std::string doc);
  static OptionSpec seconds(std::string name, std::optional<double> def, double min, double max,
                            std::string doc);
  static OptionSpec bytes(std::string name, std::optional<int64_t> def, int64_t min, int64_t max,
                          std::string doc);
  // Modifiers, for table literals: OptionSpec::real(...).derived_from("lr_all").
  OptionSpec derived_from(std::string option) const;
  OptionSpec only_when(std::string option, std::string value) const;
  OptionSpec default_when(std::string option, std::string value, OptionValue def) const;
  OptionSpec open_min() const;
  OptionSpec with_flag(std::string names, std::string env_var = "") const;
  OptionSpec with_default_doc(std::string text) const;
  OptionSpec with_range_doc(std::string text) const;
  OptionSpec with_check(std::function<void(const OptionValue&)> f) const;

  bool is_numeric() const;
  // "[1, 4096]", "(0, 1]", "als|sgd", "true|false", "text"; range_doc when set.
  std::string range_text() const;
  // "100", "lr_all", "10 (20 when method=sgd)", default_doc, or "" when there is none.
  std::string default_text() const;
  // The long flag ("--folds"), or "--" + name with '_' as '-' when the row has none.
  std::string long_flag() const;
};

using OptionTable = std::vector<OptionSpec>;

// Effective values of one table: every option that applies and has a value (given, or a
// default), in table order.
class OptionValues {
 public:
  const std::vector<std::pair<std::string, OptionValue>>& values() const { return values_; }
  bool has(std::string_view name) const { return find(name) != nullptr; }
  const OptionValue* find(std::string_view name) const;
  // True when the value came from the caller rather than from a default.
  bool explicitly_set(std::string_view name) const;
  // Typed access; asking for an option that has no value or another type is a programming
  // error: Error(kInternal).
  int64_t get_int(std::string_view name) const;   // kInt, kBytes
  double get_float(std::string_view name) const;  // kFloat, kSeconds
  bool get_bool(std::string_view name) const;
  const std::string& get_string(std::string_view name) const;  // kEnum, kString

 private:
  friend OptionValues resolve_options(const OptionTable&,
                                      const std::vector<std::pair<std::string, std::string>>&,
                                      OptionStyle, std::string_view);
  const OptionValue& get(std::string_view name, size_t index, const char* type) const;

  std::vector<std::pair<std::string, OptionValue>> values_;
  std::vector<std::string> explicit_names_;
};

// The value of a row's type that `text` spells, ignoring range and check; nullopt when it is not
// of the type (surrounding blanks ignored).
std::optional<OptionValue> parse_option_type(const OptionSpec& spec, std::string_view text);
// "an integer", "a number", "a boolean", ...: what a row's type expects, for messages.
const char* option_type_phrase(const OptionSpec& spec);

// Parses one value of a row from text (surrounding blanks ignored). Errors name the option as
// the style says: kParameter "<subject> parameter <name>", kOption "<label>" (subject, or the
// row's name when subject is empty). A value of the wrong type or out of range:
// Error(kInput) for kParameter, Error(kUsage) for kOption.
OptionValue parse_option_value(const OptionSpec& spec, std::string_view text, OptionStyle style,
                               std::string_view subject = {});

// Validates and resolves NAME=VALUE pairs against a table: an unknown name, a name given twice
// or an option that does not apply under the other settings is Error(kUsage) listing the valid
// choices; values as parse_option_value. Conditions and default_from refer to earlier rows.
OptionValues resolve_options(const OptionTable& table,
                             const std::vector<std::pair<std::string, std::string>>& given,
                             OptionStyle style, std::string_view subject = {});

// A row by name, or nullptr.
const OptionSpec* find_option(const OptionTable& table, std::string_view name);
// "a, b, c": the names of a table, in order.
std::string option_names(const OptionTable& table);

// Help: one aligned line per row (name, type, default, range, description), each line
// starting with `indent`.
std::string options_help(const OptionTable& table, std::string_view indent = "  ",
                         std::string_view first_column = "parameter");
// The same as a Markdown table (| option | type | default | range | description |).
std::string options_markdown(const OptionTable& table, std::string_view first_column = "option");

// --- rows bound to the members of a settings struct --------------------------------------------
//
// A job's or a server's settings are a plain struct whose default member initializers are the
// defaults; each row is bound to one member, and the row's default is read from a
// default-constructed struct, so a default is written exactly once.

template <typename T>
struct BoundOption {
  OptionSpec spec;
  std::function<void(T&, const OptionValue&)> set;
  std::function<std::optional<OptionValue>(const T&)> get;  // nullopt: unset
};

namespace detail {

template <typename M>
struct is_optional : std::false_type {};
template <typename M>
struct is_optional<std::optional<M>> : std::true_type {};

template <typename M>
M from_option_value(const OptionValue& v) {
  if constexpr (std::is_same_v<M, bool>) {
    return std::get<bool>(v);
  } else if constexpr (std::is_same_v<M, std::string>) {
    return std::get<std::string>(v);
  } else if constexpr (std::is_same_v<M, std::chrono::milliseconds>) {
    return std::chrono::milliseconds(std::llround(std::get<double>(v) * 1000.0));
  } else if constexpr (std::is_floating_point_v<M>) {
    return static_cast<M>(std::get<double>(v));
  } else {
    static_assert(std::is_integral_v<M>, "unsupported member type");
    return static_cast<M>(std::get<int64_t>(v));
  }
}

template <typename M>
OptionValue to_option_value(const M& m) {
  if constexpr (std::is_same_v<M, bool> || std::is_same_v<M, std::string>) {
    return m;
  } else if constexpr (std::is_same_v<M, std::chrono::milliseconds>) {
    return static_cast<double>(m.count()) / 1000.0;
  } else if constexpr (std::is_floating_point_v<M>) {
    return static_cast<double>(m);
  } else {
    return static_cast<int64_t>(m);
  }
}

}  // namespace detail

// Binds a row to a member (bool, integers, floating point, std::string,
// std::chrono::milliseconds for kSeconds rows, or std::optional of those: empty means unset).
template <typename T, typename M>
BoundOption<T> bind_option(OptionSpec spec, M T::*member) {
  BoundOption<T> row;
  row.set = [member](T& t, const OptionValue& v) {
    if constexpr (detail::is_optional<M>::value) {
      t.*member = detail::from_option_value<typename M::value_type>(v);
    } else {
      t.*member = detail::from_option_value<M>(v);
    }
  };
  row.get = [member](const T& t) -> std::optional<OptionValue> {
    if constexpr (detail::is_optional<M>::value) {
      if (!(t.*member)) return std::nullopt;
      return detail::to_option_value(*(t.*member));
    } else {
      return detail::to_option_value(t.*member);
    }
  };
  if (!spec.default_value) spec.default_value = row.get(T{});
  row.spec = std::move(spec);
  return row;
}

template <typename T>
OptionTable option_table(const std::vector<BoundOption<T>>& rows) {
  OptionTable table;
  for (const auto& r : rows) table.push_back(r.spec);
  return table;
}

// Sets every member whose row has a value in `values`.
template <typename T>
void apply_options(const std::vector<BoundOption<T>>& rows, const OptionValues& values, T& target) {
  for (const auto& r : rows) {
    if (const OptionValue* v = values.find(r.spec.name)) r.set(target, *v);
  }
}

}  // namespace reco
