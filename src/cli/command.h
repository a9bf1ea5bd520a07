#pragma once
// How command files declare their command line: subcommands, options, flags and positional
// arguments bound to variables, and option tables (core/options.h) as one flag per row. The parser
// (command.cpp) is reco's own, a few hundred lines: GNU-style --long[=value] and -s value
// options, a parent's options after a subcommand, environment variables, generated --help, and
// every mistake a usage error (exit 64) naming the argument. Command and Option are handles on
// the parser's objects, valid for the life of the app.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/options.h"

namespace reco::cli {

// Thrown by a flag callback that has done the command's work (e.g. --list-params): parsing
// stops and reco exits 0.
struct EarlyExit {};

class Option {
 public:
  explicit Option(void* option) : option_(option) {}
  Option& required();
  Option& show_default();                            // "[default]" in --help
  Option& range(double min, double max);             // numeric range check
  Option& positive();                                // a number > 0
  Option& env(const std::string& variable);          // read when the flag is absent
  Option& expected(int values);                      // values taken per occurrence
  Option& expected(int min_values, int max_values);  // positional arguments taken
  Option& choices(const std::vector<std::string>& values);
  Option& take_all();  // every occurrence of a repeated option, in order
  Option& no_extra_args();
  bool given() const;  // on the command line (or from the environment)

 private:
  void* option_;
};

class Command {
 public:
  explicit Command(void* app) : app_(app) {}

  Command add_subcommand(const std::string& name, const std::string& description);
  void require_subcommand();
  bool subcommand_given() const;  // one of this command's subcommands is being run
  void footer(const std::string& text);
  void callback(std::function<void()> run);

  // An option bound to a variable that outlives parsing (commands keep theirs in a
  // shared_ptr). T: std::string, bool, int, int64_t, uint64_t, unsigned, double,
  // std::optional<int>, std::optional<std::string>, std::vector<std::string>.
  template <typename T>
  Option option(const std::string& names, T& target, const std::string& help);
  Option flag(const std::string& names, bool& target, const std::string& help);
  void flag_callback(const std::string& names, std::function<void()> run, const std::string& help);

  // A flag per row of an option table (the row's flag, else --name-with-dashes), taking the
  // value as text: help from the row's doc, default and range. After parsing, `given` holds
  // (row name, text) for each flag given, in table order; values are validated by the table's
  // parser, not here.
  void table_flags(const OptionTable& table,
                   std::shared_ptr<std::vector<std::pair<std::string, std::string>>> given);

 private:
  void* app_;
};

// The help line of an option table row: doc, then "(default: ..., range ...)".
std::string row_help(const OptionSpec& row);

// Builds the root command (`define` adds the global options and the subcommands), parses argv
// and runs the chosen command's callback. Returns 0 after --help, --version or an EarlyExit, 64
// after a usage error (the parser's message is on stderr), else `exit_code()`. Errors thrown by
// callbacks propagate.
int parse_and_run(int argc, char** argv, const std::string& name, const std::string& description,
                  const std::string& version_text, const std::function<void(Command&)>& define,
                  const std::function<int()>& exit_code);

}  // namespace reco::cli
