#include "algorithms/params.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "core/error.h"

namespace reco::algorithms {
namespace {

ParamSpec int_param(std::string name, int64_t def, int64_t min, int64_t max, std::string doc) {
  ParamSpec p;
  p.name = std::move(name);
  p.type = ParamType::kInt;
  p.default_value = def;
  p.min = static_cast<double>(min);
  p.max = static_cast<double>(max);
  p.doc = std::move(doc);
  return p;
}

ParamSpec float_param(std::string name, double def, double min, double max, std::string doc) {
  ParamSpec p;
  p.name = std::move(name);
  p.type = ParamType::kFloat;
  p.default_value = def;
  p.min = min;
  p.max = max;
  p.doc = std::move(doc);
  return p;
}

ParamSpec bool_param(std::string name, bool def, std::string doc) {
  ParamSpec p;
  p.name = std::move(name);
  p.type = ParamType::kBool;
  p.default_value = def;
  p.doc = std::move(doc);
  return p;
}

ParamSpec enum_param(std::string name, std::string def, std::vector<std::string> choices,
                     std::string doc) {
  ParamSpec p;
  p.name = std::move(name);
  p.type = ParamType::kEnum;
  p.default_value = std::move(def);
  p.choices = std::move(choices);
  p.doc = std::move(doc);
  return p;
}

ParamSpec derived(ParamSpec p, std::string from) {
  p.default_from = std::move(from);
  return p;
}

ParamSpec only_when(ParamSpec p, std::string param, std::string value) {
  p.applies_when = ParamCondition{std::move(param), std::move(value)};
  return p;
}

// Bounds wide enough for any sensible experiment; they exist to reject typos (lr_all=5) and
// values that would overflow memory (n_factors=1e9) with a clear message instead of a crash.
constexpr int64_t kMaxFactors = 4096;
constexpr int64_t kMaxEpochs = 100000;
constexpr double kMaxSgdReg = 1000.0;

std::vector<AlgorithmSpec> build_specs() {
  std::vector<AlgorithmSpec> specs;

  AlgorithmSpec svd;
  svd.name = "svd";
  svd.doc = "biased matrix factorization trained by SGD (Surprise's SVD)";
  const double lr_max = 1.0;
  svd.params = {
      int_param("n_factors", 100, 1, kMaxFactors, "number of latent factors"),
      int_param("n_epochs", 20, 1, kMaxEpochs, "number of SGD passes over the training ratings"),
      bool_param("biased", true, "use the global mean and user/item biases (false: plain PMF)"),
      float_param("init_mean", 0.0, -100.0, 100.0, "mean of the normal the factors start from"),
      float_param("init_std_dev", 0.1, 0.0, 100.0,
                  "standard deviation of the normal the factors start from"),
      float_param("lr_all", 0.005, 0.0, lr_max, "learning rate of every parameter"),
      float_param("reg_all", 0.02, 0.0, kMaxSgdReg, "regularization of every parameter"),
      derived(float_param("lr_bu", 0.005, 0.0, lr_max, "learning rate of the user biases"),
              "lr_all"),
      derived(float_param("lr_bi", 0.005, 0.0, lr_max, "learning rate of the item biases"),
              "lr_all"),
      derived(float_param("lr_pu", 0.005, 0.0, lr_max, "learning rate of the user factors"),
              "lr_all"),
      derived(float_param("lr_qi", 0.005, 0.0, lr_max, "learning rate of the item factors"),
              "lr_all"),
      derived(float_param("reg_bu", 0.02, 0.0, kMaxSgdReg, "regularization of the user biases"),
              "reg_all"),
      derived(float_param("reg_bi", 0.02, 0.0, kMaxSgdReg, "regularization of the item biases"),
              "reg_all"),
      derived(float_param("reg_pu", 0.02, 0.0, kMaxSgdReg, "regularization of the user factors"),
              "reg_all"),
      derived(float_param("reg_qi", 0.02, 0.0, kMaxSgdReg, "regularization of the item factors"),
              "reg_all"),
      enum_param("parallel", "auto", {"auto", "on", "off"},
                 "off: one thread, Surprise's rating order; on: all cores, a fixed block "
                 "schedule (deterministic, same result for any thread count, converges like the "
                 "sequential order); auto: on from 1,000,000 training ratings"),
  };
  specs.push_back(std::move(svd));

  AlgorithmSpec baseline;
  baseline.name = "baseline";
  baseline.doc = "global mean plus user and item biases only (Surprise's BaselineOnly)";
  ParamSpec epochs = int_param("n_epochs", 10, 1, kMaxEpochs, "number of ALS sweeps or SGD passes");
  epochs.conditional_defaults.push_back({ParamCondition{"method", "sgd"}, int64_t{20}});
  baseline.params = {
      enum_param("method", "als", {"als", "sgd"},
                 "alternating least squares or stochastic gradient descent"),
      std::move(epochs),
      only_when(float_param("reg_u", 15.0, 0.0, 1e9, "regularization of the user biases"), "method",
                "als"),
      only_when(float_param("reg_i", 10.0, 0.0, 1e9, "regularization of the item biases"), "method",
                "als"),
      only_when(float_param("reg", 0.02, 0.0, kMaxSgdReg, "regularization of both biases"),
                "method", "sgd"),
      only_when(float_param("learning_rate", 0.005, 0.0, 1.0, "learning rate of both biases"),
                "method", "sgd"),
  };
  specs.push_back(std::move(baseline));
  return specs;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (size_t k = 0; k < names.size(); ++k) out += (k ? ", " : "") + names[k];
  return out;
}

std::string format_bound(double v, ParamType type) {
  if (type == ParamType::kInt) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{}", v);
}

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

std::optional<double> parse_double(const std::string& text) {
  double v = 0.0;
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (begin != end && *begin == '+') ++begin;  // from_chars rejects an explicit plus sign
  if (begin == end) return std::nullopt;
  auto [ptr, ec] = std::from_chars(begin, end, v);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

void check_range(const ParamSpec& spec, double v, const std::string& text,
                 std::string_view algorithm) {
  const bool below = spec.min_open ? v <= spec.min : v < spec.min;
  const bool above = spec.max_open ? v >= spec.max : v > spec.max;
  if (!std::isfinite(v) || below || above) {
    throw Error(ErrorKind::kInput, fmt::format("{} parameter {}={} is out of range: must be in {}",
                                               algorithm, spec.name, text, spec.range_text()));
  }
}

ParamValue parse_value(const ParamSpec& spec, std::string_view raw, std::string_view algorithm) {
  const std::string text = trim(raw);
  auto bad_type = [&](std::string_view expected) {
    return Error(ErrorKind::kInput,
                 fmt::format("{} parameter {}='{}' is not {} (valid: {})", algorithm, spec.name,
                             std::string(raw), expected, spec.range_text()));
  };
  switch (spec.type) {
    case ParamType::kInt: {
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec == std::errc() && ptr == text.data() + text.size() && !text.empty()) {
        check_range(spec, static_cast<double>(v), text, algorithm);
        return v;
      }
      // Integral values written as decimals ("20.0", "1e2") arrive from JSON and SQL casts.
      const auto d = parse_double(text);
      if (!d || !std::isfinite(*d) || std::trunc(*d) != *d) throw bad_type("an integer");
      check_range(spec, *d, text, algorithm);
      return static_cast<int64_t>(*d);
    }
    case ParamType::kFloat: {
      const auto d = parse_double(text);
      if (!d) throw bad_type("a number");
      check_range(spec, *d, text, algorithm);
      return *d;
    }
    case ParamType::kBool: {
      const std::string l = lower(text);
      if (l == "true" || l == "1" || l == "yes" || l == "on") return true;
      if (l == "false" || l == "0" || l == "no" || l == "off") return false;
      throw bad_type("a boolean");
    }
    case ParamType::kEnum: {
      const std::string l = lower(text);
      for (const auto& c : spec.choices) {
        if (l == c) return c;
      }
      throw Error(ErrorKind::kInput,
                  fmt::format("{} parameter {}='{}' is not one of {}", algorithm, spec.name,
                              std::string(raw), join_names(spec.choices)));
    }
  }
  throw Error(ErrorKind::kInternal, "unhandled parameter type");
}

std::string condition_text(const ParamCondition& c) {
  return c.param + "=" + c.value;
}

}  // namespace

const char* param_type_name(ParamType type) {
  switch (type) {
    case ParamType::kInt:
      return "int";
    case ParamType::kFloat:
      return "float";
    case ParamType::kBool:
      return "bool";
    case ParamType::kEnum:
      return "enum";
  }
  return "?";
}

std::string ParamSpec::range_text() const {
  switch (type) {
    case ParamType::kBool:
      return "true|false";
    case ParamType::kEnum: {
      std::string out;
      for (size_t k = 0; k < choices.size(); ++k) out += (k ? "|" : "") + choices[k];
      return out;
    }
    case ParamType::kInt:
    case ParamType::kFloat:
      return fmt::format("{}{}, {}{}", min_open ? "(" : "[", format_bound(min, type),
                         format_bound(max, type), max_open ? ")" : "]");
  }
  return "";
}

std::string ParamSpec::default_text() const {
  if (!default_from.empty()) return default_from;
  std::string out = format_param_value(default_value);
  for (const auto& [cond, value] : conditional_defaults) {
    out += fmt::format(" ({} when {})", format_param_value(value), condition_text(cond));
  }
  return out;
}

const std::vector<AlgorithmSpec>& algorithm_specs() {
  static const std::vector<AlgorithmSpec> specs = build_specs();
  return specs;
}

std::vector<std::string> algorithm_names() {
  std::vector<std::string> names;
  for (const auto& s : algorithm_specs()) names.push_back(s.name);
  return names;
}

const AlgorithmSpec& algorithm_spec(std::string_view algorithm) {
  for (const auto& s : algorithm_specs()) {
    if (s.name == algorithm) return s;
  }
  throw Error(ErrorKind::kUsage,
              fmt::format("unknown algorithm '{}'; valid algorithms: {}", std::string(algorithm),
                          join_names(algorithm_names())));
}

bool Params::explicitly_set(std::string_view name) const {
  return std::find(explicit_names_.begin(), explicit_names_.end(), name) != explicit_names_.end();
}

const ParamValue* Params::find(std::string_view name) const {
  for (const auto& [n, v] : values_) {
    if (n == name) return &v;
  }
  return nullptr;
}

const ParamValue& Params::get(std::string_view name, ParamType type) const {
  const ParamValue* v = find(name);
  if (v == nullptr) {
    throw Error(ErrorKind::kInternal,
                fmt::format("{} parameter {} is not set", algorithm_, std::string(name)));
  }
  const size_t expected = type == ParamType::kInt     ? 0
                          : type == ParamType::kFloat ? 1
                          : type == ParamType::kBool  ? 2
                                                      : 3;
  if (v->index() != expected) {
    throw Error(ErrorKind::kInternal, fmt::format("{} parameter {} is not of type {}", algorithm_,
                                                  std::string(name), param_type_name(type)));
  }
  return *v;
}

int64_t Params::get_int(std::string_view name) const {
  return std::get<int64_t>(get(name, ParamType::kInt));
}
double Params::get_float(std::string_view name) const {
  return std::get<double>(get(name, ParamType::kFloat));
}
bool Params::get_bool(std::string_view name) const {
  return std::get<bool>(get(name, ParamType::kBool));
}
const std::string& Params::get_enum(std::string_view name) const {
  return std::get<std::string>(get(name, ParamType::kEnum));
}

Params parse_params(std::string_view algorithm,
                    const std::vector<std::pair<std::string, std::string>>& name_values) {
  const AlgorithmSpec& spec = algorithm_spec(algorithm);
  std::vector<std::string> valid;
  for (const auto& p : spec.params) valid.push_back(p.name);

  // Parse what was given, keyed by position in the table.
  std::vector<std::optional<ParamValue>> given(spec.params.size());
  for (const auto& [name, value] : name_values) {
    const auto it = std::find_if(spec.params.begin(), spec.params.end(),
                                 [&](const ParamSpec& p) { return p.name == name; });
    if (it == spec.params.end()) {
      throw Error(ErrorKind::kUsage, fmt::format("unknown {} parameter '{}'; valid parameters: {}",
                                                 spec.name, name, join_names(valid)));
    }
    const size_t k = static_cast<size_t>(it - spec.params.begin());
    if (given[k]) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("{} parameter {} is given more than once", spec.name, name));
    }
    given[k] = parse_value(*it, value, spec.name);
  }

  // Resolve in table order: conditions and default_from refer to earlier parameters.
  Params params;
  params.algorithm_ = spec.name;
  auto resolved = [&](const std::string& name) -> const ParamValue& {
    const ParamValue* v = params.find(name);
    if (v == nullptr) {
      throw Error(ErrorKind::kInternal,
                  fmt::format("parameter table of {}: {} refers to a later or inapplicable "
                              "parameter",
                              spec.name, name));
    }
    return *v;
  };
  auto holds = [&](const ParamCondition& c) {
    const ParamValue& v = resolved(c.param);
    return std::holds_alternative<std::string>(v) && std::get<std::string>(v) == c.value;
  };
  for (size_t k = 0; k < spec.params.size(); ++k) {
    const ParamSpec& p = spec.params[k];
    if (p.applies_when && !holds(*p.applies_when)) {
      if (given[k]) {
        throw Error(ErrorKind::kUsage,
                    fmt::format("{} parameter {} applies only with {} (here {}={})", spec.name,
                                p.name, condition_text(*p.applies_when), p.applies_when->param,
                                format_param_value(resolved(p.applies_when->param))));
      }
      continue;
    }
    ParamValue value;
    if (given[k]) {
      value = *given[k];
      params.explicit_names_.push_back(p.name);
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
    params.values_.emplace_back(p.name, std::move(value));
  }
  return params;
}

Params parse_params_json(std::string_view algorithm, const nlohmann::json& object) {
  if (!object.is_object()) {
    throw Error(ErrorKind::kUsage, fmt::format("{} parameters must be a JSON object, got {}",
                                               std::string(algorithm), object.type_name()));
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& [name, value] : object.items()) {
    std::string text;
    if (value.is_string()) {
      text = value.get<std::string>();
    } else if (value.is_boolean()) {
      text = value.get<bool>() ? "true" : "false";
    } else if (value.is_number_integer()) {
      text = value.dump();
    } else if (value.is_number_float()) {
      text = fmt::format("{}", value.get<double>());
    } else {
      throw Error(ErrorKind::kInput,
                  fmt::format("{} parameter {} has a JSON {} value {}; expected a string, number "
                              "or boolean",
                              std::string(algorithm), name, value.type_name(), value.dump()));
    }
    pairs.emplace_back(name, std::move(text));
  }
  return parse_params(algorithm, pairs);
}

std::string format_param_value(const ParamValue& value) {
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

nlohmann::json params_to_json(const Params& params) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& entry : params.values()) {
    std::visit([&](const auto& v) { out[entry.first] = v; }, entry.second);
  }
  return out;
}

std::string params_help(std::string_view algorithm) {
  const AlgorithmSpec& spec = algorithm_spec(algorithm);
  struct Row {
    std::string name, type, def, range, doc;
  };
  std::vector<Row> rows;
  rows.push_back({"parameter", "type", "default", "range", "description"});
  for (const auto& p : spec.params) {
    std::string doc = p.doc;
    if (p.applies_when) doc += fmt::format(" (only with {})", condition_text(*p.applies_when));
    rows.push_back({p.name, param_type_name(p.type), p.default_text(), p.range_text(), doc});
  }
  size_t w_name = 0, w_type = 0, w_def = 0, w_range = 0;
  for (const auto& r : rows) {
    w_name = std::max(w_name, r.name.size());
    w_type = std::max(w_type, r.type.size());
    w_def = std::max(w_def, r.def.size());
    w_range = std::max(w_range, r.range.size());
  }
  std::string out = fmt::format("{}: {}\n", spec.name, spec.doc);
  for (const auto& r : rows) {
    out += fmt::format("  {:<{}}  {:<{}}  {:<{}}  {:<{}}  {}\n", r.name, w_name, r.type, w_type,
                       r.def, w_def, r.range, w_range, r.doc);
  }
  return out;
}

std::string params_help_all() {
  std::string out;
  for (const auto& s : algorithm_specs()) {
    if (!out.empty()) out += "\n";
    out += params_help(s.name);
  }
  return out;
}

}  // namespace reco::algorithms
