// The only file that includes CLI11 (see command.h).
#include "cli/command.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

namespace reco::cli {
namespace {

CLI::App* app_of(void* p) {
  return static_cast<CLI::App*>(p);
}
CLI::Option* option_of(void* p) {
  return static_cast<CLI::Option*>(p);
}

}  // namespace

Option& Option::required() {
  option_of(option_)->required();
  return *this;
}
Option& Option::show_default() {
  option_of(option_)->capture_default_str();
  return *this;
}
Option& Option::range(double min, double max) {
  option_of(option_)->check(CLI::Range(min, max));
  return *this;
}
Option& Option::positive() {
  option_of(option_)->check(CLI::PositiveNumber);
  return *this;
}
Option& Option::env(const std::string& variable) {
  option_of(option_)->envname(variable);
  return *this;
}
Option& Option::expected(int min_values, int max_values) {
  option_of(option_)->expected(min_values, max_values);
  return *this;
}
Option& Option::expected(int values) {
  option_of(option_)->expected(values);
  return *this;
}
Option& Option::choices(const std::vector<std::string>& values) {
  option_of(option_)->check(CLI::IsMember(values));
  return *this;
}
Option& Option::take_all() {
  option_of(option_)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  return *this;
}
Option& Option::no_extra_args() {
  option_of(option_)->allow_extra_args(false);
  return *this;
}
Option& Option::size_suffixes() {
  option_of(option_)->transform(CLI::AsSizeValue(false));
  return *this;
}
bool Option::given() const {
  return option_of(option_)->count() > 0;
}

Command Command::add_subcommand(const std::string& name, const std::string& description) {
  return Command(app_of(app_)->add_subcommand(name, description));
}
void Command::require_subcommand() {
  app_of(app_)->require_subcommand(1);
}
bool Command::subcommand_given() const {
  return !app_of(app_)->get_subcommands().empty();
}
void Command::footer(const std::string& text) {
  app_of(app_)->footer(text);
}
void Command::callback(std::function<void()> run) {
  app_of(app_)->callback(std::move(run));
}

template <typename T>
Option Command::option(const std::string& names, T& target, const std::string& help) {
  return Option(app_of(app_)->add_option(names, target, help));
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
  return Option(app_of(app_)->add_flag(names, target, help));
}

void Command::flag_callback(const std::string& names, std::function<void()> run,
                            const std::string& help) {
  app_of(app_)->add_flag_callback(
      names,
      [run = std::move(run)] {
        try {
          run();
        } catch (const EarlyExit&) {
          throw CLI::Success();
        }
      },
      help);
}

void Command::table_flags(const OptionTable& table,
                          std::shared_ptr<std::vector<std::pair<std::string, std::string>>> given) {
  for (const OptionSpec& row : table) {
    const std::string names = row.flag.empty() ? row.long_flag() : row.flag;
    CLI::Option* opt = nullptr;
    if (!row.flag_value.empty()) {
      opt = app_of(app_)->add_flag_callback(
          names,
          [given, name = row.name, value = row.flag_value] { given->emplace_back(name, value); });
      opt->description(fmt::format("{}={}: {} (default: {})", row.name, row.flag_value, row.doc,
                                   row.default_text()));
    } else {
      opt = app_of(app_)->add_option(names);
      opt->description(row_help(row));
      opt->type_name(fmt::format("<{}>", option_type_name(row.type)));
      opt->each(
          [given, name = row.name](const std::string& value) { given->emplace_back(name, value); });
    }
    if (!row.env.empty()) opt->envname(row.env);
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
  CLI::App app{description, name};
  app.set_version_flag("--version", version_text);
  app.require_subcommand(1);
  app.fallthrough();
  Command root(&app);
  define(root);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 64;
  } catch (const EarlyExit&) {
    return 0;
  }
  return exit_code();
}

}  // namespace reco::cli
