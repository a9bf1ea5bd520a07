// The command-line parser behind cli/command.h: subcommands, options and flags with short and
// long names, positional arguments, environment variables, generated --help. Every parse error
// is a usage error (exit 64) that names the argument and points to --help.
#include "cli/command.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>

#include <fmt/format.h>

#include "core/error.h"

namespace reco::cli {
namespace {

struct UsageError {
  std::string message;
};

struct OptionImpl {
  std::vector<std::string> names;  // "-k", "--folds"; or one positional name ("FILE")
  bool positional = false;
  bool flag = false;      // takes no value
  bool multiple = false;  // keeps every value (vectors, take_all)
  int min_values = 1;     // per occurrence (options) or in all (positionals)
  int max_values = 1;
  bool required = false;
  std::string help;
  std::string type_name;  // "TEXT", "INT", ...
  std::string default_text;
  bool show_default = false;
  std::string env;
  std::vector<std::string> values;                 // as given, in order
  size_t count = 0;                                // occurrences
  std::function<void(const std::string&)> assign;  // converts, checks and stores one value
  std::function<void()> on_flag;                   // a flag given (once per occurrence)
  std::function<void()> reset;                     // before the first value of a multiple
  std::vector<std::function<void(const std::string&)>> checks;

  std::string display_name() const {
    if (positional) return names.front();
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
    return out;
  }
  std::string long_name() const {
    for (const auto& n : names)
      if (n.rfind("--", 0) == 0) return n;
    return names.front();
  }
};

struct AppImpl {
  std::string name;
  std::string description;
  std::string footer;
  AppImpl* parent = nullptr;
  std::vector<std::unique_ptr<OptionImpl>> options;
  std::vector<std::unique_ptr<AppImpl>> subcommands;
  std::function<void()> callback;
  bool require_subcommand = false;
  AppImpl* chosen = nullptr;  // the subcommand given

  std::string path() const { return parent ? parent->path() + " " + name : name; }

  OptionImpl* find(std::string_view option_name) {
    for (auto& o : options) {
      if (o->positional) continue;
      for (const auto& n : o->names)
        if (n == option_name) return o.get();
    }
    return nullptr;
  }
  // Options of parents are accepted after a subcommand (`reco train --home DIR ...`).
  OptionImpl* find_here_or_above(std::string_view option_name) {
    for (AppImpl* a = this; a != nullptr; a = a->parent) {
      if (OptionImpl* o = a->find(option_name)) return o;
    }
    return nullptr;
  }
  AppImpl* subcommand(std::string_view sub_name) {
    for (auto& s : subcommands)
      if (s->name == sub_name) return s.get();
    return nullptr;
  }
};

AppImpl* app_of(void* p) {
  return static_cast<AppImpl*>(p);
}
OptionImpl* option_of(void* p) {
  return static_cast<OptionImpl*>(p);
}

std::vector<std::string> split_names(const std::string& names) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= names.size()) {
    size_t end = names.find(',', start);
    if (end == std::string::npos) end = names.size();
    std::string n = names.substr(start, end - start);
    n.erase(0, n.find_first_not_of(' '));
    n.erase(n.find_last_not_of(' ') + 1);
    if (!n.empty()) out.push_back(n);
    start = end + 1;
  }
  return out;
}

bool looks_like_number(std::string_view s) {
  double d = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  return ec == std::errc() && p == s.data() + s.size();
}

// Converting one value of an option to its variable's type.
template <typename T>
T convert(const OptionImpl& o, const std::string& text) {
  auto bad = [&](const char* what) {
    return UsageError{fmt::format("{}: '{}' is not {}", o.long_name(), text, what)};
  };
  if constexpr (std::is_same_v<T, std::string>) {
    return text;
  } else if constexpr (std::is_same_v<T, double>) {
    double v = 0;
    const char* b = text.data();
    const char* e = b + text.size();
    if (b != e && *b == '+') ++b;
    const auto [p, ec] = std::from_chars(b, e, v);
    if (b == e || ec != std::errc() || p != e || !std::isfinite(v)) throw bad("a number");
    return v;
  } else {
    static_assert(std::is_integral_v<T>);
    T v{};
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || p != text.data() + text.size()) {
      throw bad(std::is_signed_v<T> ? "an integer" : "a non-negative integer");
    }
    return v;
  }
}

template <typename T>
const char* type_name_of() {
  if constexpr (std::is_same_v<T, std::string>) return "TEXT";
  if constexpr (std::is_same_v<T, double>) return "FLOAT";
  if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) return "INT";
  if constexpr (std::is_integral_v<T> && !std::is_signed_v<T>) return "UINT";
  return "TEXT";
}

template <typename T>
std::string text_of(const T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    return v;
  } else {
    return fmt::format("{}", v);
  }
}

// Binds an option to a variable of type T (or optional<T>, vector<T>).
template <typename T>
struct Binder {
  static void bind(OptionImpl& o, T& target) {
    o.type_name = type_name_of<T>();
    o.default_text = text_of(target);
    o.assign = [&o, &target](const std::string& text) { target = convert<T>(o, text); };
  }
};
template <typename T>
struct Binder<std::optional<T>> {
  static void bind(OptionImpl& o, std::optional<T>& target) {
    o.type_name = type_name_of<T>();
    if (target) o.default_text = text_of(*target);
    o.assign = [&o, &target](const std::string& text) { target = convert<T>(o, text); };
  }
};
template <typename T>
struct Binder<std::vector<T>> {
  static void bind(OptionImpl& o, std::vector<T>& target) {
    o.type_name = std::string(type_name_of<T>()) + " ...";
    o.multiple = true;
    o.reset = [&target] { target.clear(); };
    o.assign = [&o, &target](const std::string& text) { target.push_back(convert<T>(o, text)); };
  }
};

// --- help ---------------------------------------------------------------------------------------

std::string wrap_row(const std::string& left, const std::string& right) {
  constexpr size_t kColumn = 30;
  std::string out = "  " + left;
  if (out.size() + 1 > kColumn) {
    out += "\n" + std::string(kColumn, ' ');
  } else {
    out += std::string(kColumn - out.size(), ' ');
  }
  return out + right + "\n";
}

std::string option_left(const OptionImpl& o) {
  std::string left = o.display_name();
  if (!o.flag) {
    left += " " + o.type_name;
    if (o.show_default && !o.default_text.empty()) left += "=" + o.default_text;
  }
  if (o.required) left += " REQUIRED";
  if (!o.env.empty()) left += " (env " + o.env + ")";
  return left;
}

std::string help_of(const AppImpl& app) {
  std::string out;
  if (!app.description.empty()) out += app.description + "\n";
  std::string usage = "Usage: " + app.path();
  bool has_options = false;
  std::string positionals;
  for (const auto& o : app.options) {
    if (o->positional) {
      positionals += " " + (o->required ? o->names.front() : "[" + o->names.front() + "]");
    } else {
      has_options = true;
    }
  }
  usage += " [OPTIONS]" + positionals;
  if (!app.subcommands.empty()) usage += app.require_subcommand ? " SUBCOMMAND" : " [SUBCOMMAND]";
  out += usage + "\n";
  if (!positionals.empty()) {
    out += "\nPositionals:\n";
    for (const auto& o : app.options)
      if (o->positional) out += wrap_row(option_left(*o), o->help);
  }
  out += "\nOptions:\n";
  out += wrap_row("-h,--help", "Print this help message and exit");
  if (app.parent == nullptr) out += wrap_row("--version", "Print the version and exit");
  if (has_options) {
    for (const auto& o : app.options)
      if (!o->positional) out += wrap_row(option_left(*o), o->help);
  }
  if (!app.subcommands.empty()) {
    out += "\nSubcommands:\n";
    for (const auto& s : app.subcommands) out += wrap_row(s->name, s->description);
  }
  if (!app.footer.empty()) out += "\n" + app.footer + "\n";
  return out;
}

// --- parsing ------------------------------------------------------------------------------------

struct Parse {
  AppImpl* help_for = nullptr;
  bool version = false;
};

// `current` follows the subcommands given, so that errors name the command they belong to.
Parse parse_argv(AppImpl& root, int argc, char** argv, AppImpl*& current) {
  Parse result;
  current = &root;
  bool only_positionals = false;
  for (int k = 1; k < argc; ++k) {
    const std::string token = argv[k];
    const bool is_option = !only_positionals && token.size() > 1 && token[0] == '-' &&
                           !(token.size() > 1 && looks_like_number(token));
    if (!only_positionals && token == "--") {
      only_positionals = true;
      continue;
    }
    if (is_option) {
      if (token == "-h" || token == "--help") {
        result.help_for = current;
        continue;
      }
      if (token == "--version" && current == &root) {
        result.version = true;
        continue;
      }
      std::string name = token;
      std::optional<std::string> inline_value;
      if (token.rfind("--", 0) == 0) {
        const size_t eq = token.find('=');
        if (eq != std::string::npos) {
          name = token.substr(0, eq);
          inline_value = token.substr(eq + 1);
        }
      } else if (token.size() > 2) {  // -k5
        name = token.substr(0, 2);
        inline_value = token.substr(2);
      }
      OptionImpl* o = current->find_here_or_above(name);
      if (o == nullptr) {
        throw UsageError{fmt::format("{} is not an option of {}", name, current->path())};
      }
      if (++o->count > 1 && !o->multiple && !o->flag) {
        throw UsageError{fmt::format("{} is given more than once", o->long_name())};
      }
      if (o->flag) {
        if (inline_value) throw UsageError{fmt::format("{} takes no value", name)};
        if (o->on_flag) o->on_flag();
        continue;
      }
      if (!inline_value) {
        if (k + 1 >= argc) throw UsageError{fmt::format("{} needs a value", name)};
        inline_value = argv[++k];
      }
      o->values.push_back(*inline_value);
      continue;
    }
    if (!only_positionals) {
      if (AppImpl* sub = current->subcommand(token)) {
        current->chosen = sub;
        current = sub;
        continue;
      }
    }
    // The next positional of the current command with room left.
    OptionImpl* target = nullptr;
    for (auto& o : current->options) {
      if (o->positional && static_cast<int>(o->values.size()) < o->max_values) {
        target = o.get();
        break;
      }
    }
    if (target == nullptr) {
      throw UsageError{fmt::format("unexpected argument '{}' for {}", token, current->path())};
    }
    ++target->count;
    target->values.push_back(token);
  }
  return result;
}

// Environment, conversion, checks and flag callbacks, then requirements: for the root and every
// subcommand given, top down.
void finish(AppImpl& app) {
  for (auto& o : app.options) {
    if (o->values.empty() && o->count == 0 && !o->env.empty()) {
      if (const char* v = std::getenv(o->env.c_str()); v != nullptr && *v != '\0') {
        o->values.push_back(v);
        o->count = 1;
      }
    }
    if (o->multiple && o->reset && !o->values.empty()) o->reset();
    for (const auto& v : o->values) {
      for (const auto& check : o->checks) check(v);
      if (o->assign) o->assign(v);
    }
    if (o->positional && !o->values.empty() && static_cast<int>(o->values.size()) < o->min_values) {
      throw UsageError{fmt::format("{} needs at least {} values", o->names.front(), o->min_values)};
    }
  }
  if (app.chosen) finish(*app.chosen);
}

void check_requirements(AppImpl& app) {
  for (const auto& o : app.options) {
    if (o->required && o->count == 0) {
      throw UsageError{
          fmt::format("{} is required", o->positional ? o->names.front() : o->long_name())};
    }
  }
  if (app.require_subcommand && app.chosen == nullptr) {
    std::string names;
    for (const auto& s : app.subcommands) names += (names.empty() ? "" : ", ") + s->name;
    throw UsageError{fmt::format("{} needs a subcommand: {}", app.path(), names)};
  }
  if (app.chosen) check_requirements(*app.chosen);
}

// The chosen command's callback first, then its parents'.
void run_callbacks(AppImpl& app) {
  if (app.chosen) run_callbacks(*app.chosen);
  if (app.callback) app.callback();
}

}  // namespace

// --- Option -------------------------------------------------------------------------------------

Option& Option::required() {
  option_of(option_)->required = true;
  return *this;
}
Option& Option::show_default() {
  option_of(option_)->show_default = true;
  return *this;
}
Option& Option::range(double min, double max) {
  OptionImpl* o = option_of(option_);
  o->checks.push_back([o, min, max](const std::string& v) {
    double d = 0;
    const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
    if (ec == std::errc() && p == v.data() + v.size() && (d < min || d > max)) {
      throw UsageError{
          fmt::format("{}: {} is out of range ({} to {})", o->long_name(), v, min, max)};
    }
  });
  return *this;
}
Option& Option::positive() {
  OptionImpl* o = option_of(option_);
  o->checks.push_back([o](const std::string& v) {
    double d = 0;
    const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
    if (ec == std::errc() && p == v.data() + v.size() && !(d > 0)) {
      throw UsageError{fmt::format("{}: {} is not a positive number", o->long_name(), v)};
    }
  });
  return *this;
}
Option& Option::env(const std::string& variable) {
  option_of(option_)->env = variable;
  return *this;
}
Option& Option::expected(int values) {
  return expected(values, values);
}
Option& Option::expected(int min_values, int max_values) {
  OptionImpl* o = option_of(option_);
  o->min_values = min_values;
  o->max_values = max_values;
  return *this;
}
Option& Option::choices(const std::vector<std::string>& values) {
  OptionImpl* o = option_of(option_);
  o->checks.push_back([o, values](const std::string& v) {
    if (std::find(values.begin(), values.end(), v) != values.end()) return;
    std::string list;
    for (const auto& c : values) list += (list.empty() ? "" : ", ") + c;
    throw UsageError{fmt::format("{}: '{}' is not one of {}", o->long_name(), v, list)};
  });
  return *this;
}
Option& Option::take_all() {
  option_of(option_)->multiple = true;
  return *this;
}
Option& Option::no_extra_args() {
  option_of(option_)->max_values = 1;  // one value per occurrence: a later word is positional
  return *this;
}
bool Option::given() const {
  return option_of(option_)->count > 0;
}

// --- Command ------------------------------------------------------------------------------------

Command Command::add_subcommand(const std::string& name, const std::string& description) {
  AppImpl* app = app_of(app_);
  auto sub = std::make_unique<AppImpl>();
  sub->name = name;
  sub->description = description;
  sub->parent = app;
  app->subcommands.push_back(std::move(sub));
  return Command(app->subcommands.back().get());
}
void Command::require_subcommand() {
  app_of(app_)->require_subcommand = true;
}
bool Command::subcommand_given() const {
  return app_of(app_)->chosen != nullptr;
}
void Command::footer(const std::string& text) {
  app_of(app_)->footer = text;
}
void Command::callback(std::function<void()> run) {
  app_of(app_)->callback = std::move(run);
}

template <typename T>
Option Command::option(const std::string& names, T& target, const std::string& help) {
  auto o = std::make_unique<OptionImpl>();
  o->names = split_names(names);
  o->positional = !o->names.empty() && o->names.front()[0] != '-';
  o->help = help;
  Binder<T>::bind(*o, target);
  if (o->positional && o->multiple) o->max_values = std::numeric_limits<int>::max();
  app_of(app_)->options.push_back(std::move(o));
  return Option(app_of(app_)->options.back().get());
}
template Option Command::option(const std::string&, std::string&, const std::string&);
template Option Command::option(const std::string&, int&, const std::string&);
template Option Command::option(const std::string&, int64_t&, const std::string&);
template Option Command::option(const std::string&, uint64_t&, const std::string&);
template Option Command::option(const std::string&, unsigned&, const std::string&);
template Option Command::option(const std::string&, double&, const std::string&);
template Option Command::option(const std::string&, std::optional<int>&, const std::string&);
template Option Command::option(const std::string&, std::optional<std::string>&,
                                const std::string&);
template Option Command::option(const std::string&, std::vector<std::string>&, const std::string&);

Option Command::flag(const std::string& names, bool& target, const std::string& help) {
  auto o = std::make_unique<OptionImpl>();
  o->names = split_names(names);
  o->flag = true;
  o->help = help;
  o->on_flag = [&target] { target = true; };
  app_of(app_)->options.push_back(std::move(o));
  return Option(app_of(app_)->options.back().get());
}

void Command::flag_callback(const std::string& names, std::function<void()> run,
                            const std::string& help) {
  // Runs once all values are set (finish()), so it sees the other options of the command.
  auto o = std::make_unique<OptionImpl>();
  o->names = split_names(names);
  o->flag = true;
  o->help = help;
  OptionImpl* self = o.get();
  o->on_flag = [self] { self->values.assign(1, ""); };
  o->assign = [run = std::move(run)](const std::string&) { run(); };
  app_of(app_)->options.push_back(std::move(o));
}

void Command::table_flags(const OptionTable& table,
                          std::shared_ptr<std::vector<std::pair<std::string, std::string>>> given) {
  for (const OptionSpec& row : table) {
    auto o = std::make_unique<OptionImpl>();
    o->names = split_names(row.flag.empty() ? row.long_flag() : row.flag);
    o->env = row.env;
    if (!row.flag_value.empty()) {
      o->flag = true;
      o->help = fmt::format("{}={}: {} (default: {})", row.name, row.flag_value, row.doc,
                            row.default_text());
      OptionImpl* self = o.get();
      o->on_flag = [self, value = row.flag_value] { self->values.assign(1, value); };
    } else {
      o->help = row_help(row);
      o->type_name = fmt::format("<{}>", option_type_name(row.type));
    }
    o->assign = [given, name = row.name](const std::string& value) {
      given->emplace_back(name, value);
    };
    app_of(app_)->options.push_back(std::move(o));
  }
}

std::string row_help(const OptionSpec& row) {
  std::string help = row.doc;
  const std::string def = row.default_text();
  const std::string range = row.range_text();
  std::string extra;
  if (!def.empty()) extra = "default: " + def;
  if (!range.empty()) extra += (extra.empty() ? "" : "; ") + range;
  if (!extra.empty()) help += " (" + extra + ")";
  return help;
}

int parse_and_run(int argc, char** argv, const std::string& name, const std::string& description,
                  const std::string& version_text, const std::function<void(Command&)>& define,
                  const std::function<int()>& exit_code) {
  AppImpl root;
  root.name = name;
  root.description = description;
  root.require_subcommand = true;
  Command command(&root);
  define(command);
  AppImpl* failed_in = &root;
  try {
    const Parse p = parse_argv(root, argc, argv, failed_in);
    if (p.version) {
      fmt::print("{}\n", version_text);
      return 0;
    }
    finish(root);
    if (p.help_for) {
      fmt::print("{}", help_of(*p.help_for));
      return 0;
    }
    check_requirements(root);
  } catch (const UsageError& e) {
    std::fflush(stdout);
    fmt::print(stderr, "{}: error: {}\nRun '{} --help' for more information.\n", failed_in->path(),
               e.message, failed_in->path());
    return 64;
  } catch (const EarlyExit&) {
    return 0;
  }
  try {
    run_callbacks(root);
  } catch (const EarlyExit&) {
    return 0;
  }
  return exit_code();
}

}  // namespace reco::cli
