#include "cli/command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <memory>
#include <string>
#include <vector>

namespace reco::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Runs argv (without the program name) against a small command tree; returns the exit code.
struct Cli {
  std::string name;
  int64_t count = 3;
  double ratio = 0.5;
  std::optional<int> version;
  std::vector<std::string> commands;
  std::vector<std::string> args;
  std::string mode = "table";
  std::string file;
  bool verbose = false;
  bool quiet = false;
  bool listed = false;
  bool ran_sub = false;
  bool ran_parent = false;
  std::string env_home;
  std::shared_ptr<std::vector<std::pair<std::string, std::string>>> rows =
      std::make_shared<std::vector<std::pair<std::string, std::string>>>();

  int run(std::vector<std::string> argv) {
    argv.insert(argv.begin(), "tool");
    std::vector<char*> raw;
    for (auto& a : argv) raw.push_back(a.data());
    return parse_and_run(
        static_cast<int>(raw.size()), raw.data(), "tool", "A tool.", "tool 1.0",
        [this](Command& root) {
          root.option("--home", env_home, "Home").env("CLI_TEST_HOME");
          root.flag("-q,--quiet", quiet, "Quiet");
          Command sub = root.add_subcommand("go", "Go somewhere");
          sub.option("-n,--name", name, "Name").required();
          sub.option("-c,--count", count, "Count").show_default().range(1, 10);
          sub.option("--ratio", ratio, "Ratio").positive();
          sub.option("--version", version, "A version");
          sub.option("-x,--command", commands, "Commands").expected(1).take_all();
          sub.option("--mode", mode, "Mode").choices({"table", "csv"});
          sub.option("file", file, "A file");
          sub.flag("-v,--verbose", verbose, "Verbose");
          sub.flag_callback(
              "--list",
              [this] {
                listed = verbose;  // sees the other flags, whatever their order
                throw EarlyExit{};
              },
              "List and exit");
          OptionTable table = {OptionSpec::integer("top_k", 10, 1, 100, "top k"),
                               OptionSpec::boolean("log", true, "log").with_flag("--no-log")};
          table[1].flag_value = "false";
          sub.table_flags(table, rows);
          sub.callback([this] { ran_sub = true; });
          Command pair = root.add_subcommand("pair", "Two arguments");
          pair.option("args", args, "ARGS").required().expected(1, 2);
          Command parent = root.add_subcommand("parent", "Has children");
          parent.require_subcommand();
          parent.add_subcommand("child", "A child").callback([this] { ran_sub = true; });
          parent.callback([this] { ran_parent = true; });
        },
        [] { return 0; });
  }
};

TEST(Command, ParsesOptionsFlagsAndPositionals) {
  Cli c;
  EXPECT_EQ(c.run({"go", "--name", "a", "-c", "7", "--ratio=0.25", "-x", "one", "-x", "two",
                   "data.csv", "-v", "--home", "/h"}),
            0);
  EXPECT_TRUE(c.ran_sub);
  EXPECT_EQ(c.name, "a");
  EXPECT_EQ(c.count, 7);
  EXPECT_EQ(c.ratio, 0.25);
  EXPECT_THAT(c.commands, ElementsAre("one", "two"));
  EXPECT_EQ(c.file, "data.csv");
  EXPECT_TRUE(c.verbose);
  EXPECT_EQ(c.env_home, "/h") << "a parent's option after the subcommand";
  Cli d;
  EXPECT_EQ(d.run({"-q", "go", "-nb", "--version", "3", "--", "-file-with-dash"}), 0);
  EXPECT_TRUE(d.quiet);
  EXPECT_EQ(d.name, "b");
  EXPECT_EQ(d.version, 3);
  EXPECT_EQ(d.file, "-file-with-dash");
  EXPECT_EQ(d.count, 3) << "defaults stay";
}

TEST(Command, NegativeNumbersAreValuesAndDashIsAPositional) {
  Cli c;
  EXPECT_EQ(c.run({"go", "-n", "a", "--ratio", "-1", "-"}), 64) << "range of --ratio";
  Cli d;
  EXPECT_EQ(d.run({"go", "-n", "-5", "-"}), 0);
  EXPECT_EQ(d.name, "-5");
  EXPECT_EQ(d.file, "-");
}

TEST(Command, EveryMistakeIsAUsageError) {
  for (const std::vector<std::string>& argv : std::vector<std::vector<std::string>>{
           {"go"},                                 // --name is required
           {"go", "-n", "a", "--nope"},            // unknown option
           {"go", "-n"},                           // no value
           {"go", "-n", "a", "-c", "11"},          // out of range
           {"go", "-n", "a", "-c", "x"},           // not an integer
           {"go", "-n", "a", "-n", "b"},           // given twice
           {"go", "-n", "a", "--mode", "box"},     // not a choice
           {"go", "-n", "a", "f1", "f2"},          // one positional too many
           {"go", "-n", "a", "--verbose=yes"},     // a flag takes no value
           {"go", "-n", "a", "--version", "1.5"},  // not an integer
           {"nowhere"},                            // unknown subcommand
           {},                                     // a subcommand is required
           {"parent"},                             // and here too
           {"pair"},                               // a required positional
           {"pair", "1", "2", "3"},                // at most two
       }) {
    Cli c;
    testing::internal::CaptureStderr();
    EXPECT_EQ(c.run(argv), 64) << ::testing::PrintToString(argv);
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_THAT(err, HasSubstr("error: ")) << ::testing::PrintToString(argv);
    EXPECT_THAT(err, HasSubstr("--help' for more information")) << err;
    EXPECT_FALSE(c.ran_sub);
  }
}

TEST(Command, ErrorsNameTheArgumentAndTheCommand) {
  Cli c;
  testing::internal::CaptureStderr();
  c.run({"go", "-n", "a", "-c", "42"});
  EXPECT_THAT(testing::internal::GetCapturedStderr(),
              HasSubstr("tool go: error: --count: 42 is out of range (1 to 10)"));
  testing::internal::CaptureStderr();
  c.run({"go", "--nope"});
  EXPECT_THAT(testing::internal::GetCapturedStderr(),
              HasSubstr("tool go: error: --nope is not an option of tool go"));
}

TEST(Command, EnvironmentFillsWhatIsNotGiven) {
  ::setenv("CLI_TEST_HOME", "/from/env", 1);
  Cli c;
  EXPECT_EQ(c.run({"go", "-n", "a"}), 0);
  EXPECT_EQ(c.env_home, "/from/env");
  Cli d;
  EXPECT_EQ(d.run({"--home", "/flag", "go", "-n", "a"}), 0);
  EXPECT_EQ(d.env_home, "/flag");
  ::unsetenv("CLI_TEST_HOME");
}

TEST(Command, FlagCallbacksSeeEveryValueAndCanEndTheRun) {
  Cli c;
  EXPECT_EQ(c.run({"go", "--list", "-v"}), 0) << "no --name needed: the callback ends the run";
  EXPECT_TRUE(c.listed);
  EXPECT_FALSE(c.ran_sub);
}

TEST(Command, TableRowsBecomeFlags) {
  Cli c;
  EXPECT_EQ(c.run({"go", "-n", "a", "--top-k", "5", "--no-log"}), 0);
  EXPECT_THAT(*c.rows, ElementsAre(std::pair<std::string, std::string>("top_k", "5"),
                                   std::pair<std::string, std::string>("log", "false")));
}

TEST(Command, CallbacksRunChildFirstThenParent) {
  Cli c;
  EXPECT_EQ(c.run({"parent", "child"}), 0);
  EXPECT_TRUE(c.ran_sub);
  EXPECT_TRUE(c.ran_parent);
}

TEST(Command, HelpAndVersion) {
  Cli c;
  testing::internal::CaptureStdout();
  EXPECT_EQ(c.run({"go", "--help"}), 0);
  const std::string help = testing::internal::GetCapturedStdout();
  EXPECT_THAT(help, HasSubstr("Usage: tool go [OPTIONS] [file]"));
  EXPECT_THAT(help, HasSubstr("-n,--name TEXT REQUIRED"));
  EXPECT_THAT(help, HasSubstr("-c,--count INT=3"));
  EXPECT_THAT(help, HasSubstr("--top-k <int>"));
  EXPECT_THAT(help, HasSubstr("top k (default: 10; [1, 100])"));
  EXPECT_FALSE(c.ran_sub);
  testing::internal::CaptureStdout();
  EXPECT_EQ(c.run({"--version"}), 0);
  EXPECT_EQ(testing::internal::GetCapturedStdout(), "tool 1.0\n");
  testing::internal::CaptureStdout();
  EXPECT_EQ(c.run({"--help"}), 0);
  EXPECT_THAT(testing::internal::GetCapturedStdout(),
              HasSubstr("Subcommands:\n  go                          Go somewhere\n"));
}

}  // namespace
}  // namespace reco::cli
