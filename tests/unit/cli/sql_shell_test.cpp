#include "cli/sql_shell.h"

#include <sqlite3.h>
#include <stdlib.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"

namespace reco::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Collects what a FILE* receives, through open_memstream.
class Capture {
 public:
  Capture() : file_(::open_memstream(&data_, &size_)) {
    if (file_ == nullptr) throw std::runtime_error("open_memstream failed");
  }
  ~Capture() {
    std::fclose(file_);
    std::free(data_);
  }
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  std::FILE* file() const { return file_; }
  std::string text() {
    std::fflush(file_);
    return std::string(data_, size_);
  }

 private:
  char* data_ = nullptr;
  std::size_t size_ = 0;
  std::FILE* file_;
};

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "reco-cli-test-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string path() const { return path_.string(); }
  std::string write(const std::string& name, const std::string& text) const {
    const auto file = path_ / name;
    std::ofstream(file, std::ios::binary) << text;
    return file.string();
  }

 private:
  std::filesystem::path path_;
};

class SqlShellTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK); }
  void TearDown() override { sqlite3_close(db_); }

  SqlShell make_shell(ShellSettings settings = {}) {
    return SqlShell(db_, settings, out_.file(), err_.file());
  }

  sqlite3* db_ = nullptr;
  Capture out_;
  Capture err_;
};

TEST_F(SqlShellTest, RunsStatementsAndPrintsResultSets) {
  SqlShell shell(db_, {}, out_.file(), err_.file());
  EXPECT_TRUE(
      shell.run_command_string("create table t(id integer, name text, score real);"
                               "insert into t values (1, 'a', 0.5), (2, NULL, 2.0);"
                               "select * from t order by id;",
                               1));
  EXPECT_EQ(out_.text(),
            " id | name | score\n"
            "----+------+-------\n"
            "  1 | a    |   0.5\n"
            "  2 |      |   2.0\n"
            "(2 rows)\n\n");
  EXPECT_EQ(err_.text(), "");
  EXPECT_EQ(shell.exit_code(), 0);
}

TEST(SqlShellWarehouse, NoSuchTableNamesTheWarehouseFile) {
  TempDir dir;
  const std::string file = dir.path() + "/warehouse.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  Capture out, err;
  {
    SqlShell shell(db, {}, out.file(), err.file());
    EXPECT_FALSE(shell.run_command_string("select * from ratings", 1));
  }
  sqlite3_close(db);
  EXPECT_EQ(err.text(), "Error: -c #1, statement 1: no such table: ratings (in the warehouse " +
                            std::filesystem::canonical(file).string() + ")\n");
}

TEST_F(SqlShellTest, SnowflakeSetUpStatementsAreExplainedAndFunctionsListed) {
  SqlShell shell(db_, {}, out_.file(), err_.file());
  EXPECT_TRUE(shell.run_command_string(
      "create or replace external function f(a varchar) returns variant api_integration = x as "
      "'https://x'; describe function invoke_model",
      1));
  EXPECT_EQ(err_.text(),
            "reco: 'create or replace external function' ignored: reco's functions are built in: "
            "see `show functions`\n");
  EXPECT_THAT(out_.text(), HasSubstr("invoke_model(endpoint_name, user_id, item_id)"));
  EXPECT_FALSE(shell.run_command_string("describe function nope", 2));
  EXPECT_THAT(err_.text(), HasSubstr("Error: -c #2, statement 1: describe function: reco has no "
                                     "SQL function named 'nope'"));
  EXPECT_EQ(shell.exit_code(), 1);
}

TEST_F(SqlShellTest, CommandStringStopsAtFirstErrorNamingTheStatement) {
  SqlShell shell(db_, {}, out_.file(), err_.file());
  EXPECT_FALSE(shell.run_command_string("select 1 as a; select * from missing; select 3;", 2));
  EXPECT_EQ(err_.text(), "Error: -c #2, statement 2: no such table: missing\n");
  EXPECT_THAT(out_.text(), Not(HasSubstr("3")));
  EXPECT_EQ(shell.exit_code(), 1);
}

TEST_F(SqlShellTest, ScriptContinuesAfterErrorsAndNamesTheLine) {
  TempDir dir;
  const std::string script = dir.write("s.sql",
                                       "create table t(a);\n"
                                       "\n"
                                       "-- a comment line\n"
                                       "select *\n"
                                       "  from nope;\n"
                                       "insert into t values (7);\n"
                                       "selec 1;\n"
                                       "select a from t;\n");
  SqlShell shell(db_, {}, out_.file(), err_.file());
  EXPECT_TRUE(shell.run_file(script));
  EXPECT_EQ(err_.text(),
            "Error: near line 4: no such table: nope\n"
            "Error: near line 7: near \"selec\": syntax error\n");
  EXPECT_EQ(out_.text(), " a\n---\n 7\n(1 row)\n\n");
  EXPECT_EQ(shell.exit_code(), 1);
}

TEST_F(SqlShellTest, BailStopsTheScript) {
  TempDir dir;
  const std::string script = dir.write("s.sql", "select 1 as x;\nselect nope;\nselect 2 as y;\n");
  ShellSettings settings;
  settings.bail = true;
  settings.mode = OutputMode::kCsv;
  SqlShell shell(db_, settings, out_.file(), err_.file());
  EXPECT_FALSE(shell.run_file(script));
  EXPECT_EQ(out_.text(), "x\n1\n");
  EXPECT_EQ(err_.text(), "Error: near line 2: no such column: nope\n");
  EXPECT_EQ(shell.exit_code(), 1);
}

TEST_F(SqlShellTest, RuntimeErrorsAreReported) {
  SqlShell shell(db_, {}, out_.file(), err_.file());
  shell.run_command_string("create table u(a unique); insert into u values (1);", 1);
  EXPECT_FALSE(shell.run_command_string("insert into u values (1);", 2));
  EXPECT_EQ(err_.text(), "Error: -c #2, statement 1: UNIQUE constraint failed: u.a\n");
}

TEST_F(SqlShellTest, EchoKeepsInputOrderWithMergedStreams) {
  // Both streams into one, as the SQL-script tests run it (2>&1).
  ShellSettings settings;
  settings.echo = true;
  SqlShell shell(db_, settings, out_.file(), out_.file());
  TempDir dir;
  const std::string script = dir.write("s.sql",
                                       "-- comment before\n"
                                       ".mode csv\n"
                                       "select 1 as a;  -- trailing\n"
                                       "select * from nope;\n"
                                       ".headers off\n"
                                       "select 'x,y' as b;\n");
  EXPECT_TRUE(shell.run_file(script));
  EXPECT_EQ(out_.text(),
            "-- comment before\n"
            ".mode csv\n"
            "select 1 as a;  -- trailing\n"
            "a\n"
            "1\n"
            "select * from nope;\n"
            "Error: near line 4: no such table: nope\n"
            ".headers off\n"
            "select 'x,y' as b;\n"
            "\"x,y\"\n");
}

TEST_F(SqlShellTest, DotCommandsChangeSettings) {
  SqlShell shell(db_, {}, out_.file(), err_.file());
  EXPECT_TRUE(
      shell.run_command_string(".mode json\n.headers off\n.echo on\n.bail on\n.timer off", 1));
  EXPECT_EQ(shell.settings().mode, OutputMode::kJson);
  EXPECT_FALSE(shell.settings().headers);
  EXPECT_TRUE(shell.settings().echo);
  EXPECT_TRUE(shell.settings().bail);
  EXPECT_FALSE(shell.settings().timer);
  EXPECT_TRUE(shell.run_command_string(".mode", 2));
  EXPECT_THAT(out_.text(), HasSubstr("current output mode: json"));
}

TEST_F(SqlShellTest, BadDotCommandsAreErrors) {
  SqlShell shell(db_, {}, out_.file(), err_.file());
  EXPECT_FALSE(shell.run_command_string(".frobnicate", 1));
  EXPECT_FALSE(shell.run_command_string(".mode box", 2));
  EXPECT_FALSE(shell.run_command_string(".headers maybe", 3));
  EXPECT_FALSE(shell.run_command_string(".read 'unterminated", 4));
  EXPECT_FALSE(shell.run_command_string(".exit lots", 5));
  EXPECT_EQ(err_.text(),
            "Error: -c #1: unknown command: .frobnicate (enter .help for the list)\n"
            "Error: -c #2: usage: .mode table|csv|json|line\n"
            "Error: -c #3: usage: .headers on|off\n"
            "Error: -c #4: unterminated ' quote in dot-command argument\n"
            "Error: -c #5: .exit: CODE must be a number from 0 to 255, not 'lots'\n");
  EXPECT_EQ(shell.exit_code(), 1);
}

TEST_F(SqlShellTest, TablesAndSchema) {
  SqlShell shell(db_, {}, out_.file(), err_.file());
  ASSERT_TRUE(
      shell.run_command_string("create table movies(movieid integer primary key, title text);"
                               "create index movies_title on movies(title);"
                               "create table ratings(userid int, movieid int, rating real);"
                               "create view top as select * from ratings where rating >= 4;"
                               "create temp table scratch(x);",
                               1));
  ASSERT_TRUE(shell.run_command_string(".tables", 2));
  EXPECT_EQ(out_.text(), "movies\nratings\ntop\ntemp.scratch\n");
  const std::size_t before = out_.text().size();
  ASSERT_TRUE(shell.run_command_string(".schema MOVIES", 3));
  EXPECT_EQ(out_.text().substr(before),
            "CREATE TABLE movies(movieid integer primary key, title text);\n"
            "CREATE INDEX movies_title on movies(title);\n");
  EXPECT_FALSE(shell.run_command_string(".schema nosuch", 4));
  EXPECT_EQ(err_.text(), "Error: -c #4: no such table: nosuch\n");
}

TEST_F(SqlShellTest, ReadRunsNestedFilesAndNamesThemInErrors) {
  TempDir dir;
  const std::string inner = dir.write("inner.sql", "select 2 as b;\nselect * from gone;\n");
  const std::string outer =
      dir.write("outer.sql", "select 1 as a;\n.read " + inner + "\nselect 3 as c;\n");
  ShellSettings settings;
  settings.mode = OutputMode::kCsv;
  settings.headers = false;
  SqlShell shell(db_, settings, out_.file(), err_.file());
  EXPECT_TRUE(shell.run_file(outer));
  EXPECT_EQ(out_.text(), "1\n2\n3\n");
  EXPECT_EQ(err_.text(), "Error: near line 2 of " + inner + ": no such table: gone\n");
}

TEST_F(SqlShellTest, ReadOfMissingFileAndSelfReference) {
  TempDir dir;
  SqlShell shell(db_, {}, out_.file(), err_.file());
  const std::string self = dir.write("self.sql", "");
  dir.write("self.sql", ".read " + self + "\n");
  EXPECT_TRUE(shell.run_file(self));
  EXPECT_THAT(err_.text(), HasSubstr("files nested more than 16 deep"));
  EXPECT_THROW(shell.run_file(dir.write("x", "") + ".absent"), Error);
  try {
    shell.run_file(dir.path());  // a directory opens, but cannot be read
    ADD_FAILURE() << "reading a directory as a script did not fail";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kIo);
    EXPECT_THAT(e.what(), HasSubstr("Is a directory"));
  }
}

TEST_F(SqlShellTest, ExitStopsEverythingWithItsCode) {
  TempDir dir;
  const std::string script = dir.write("s.sql", "select 1 as a;\n.exit 3\nselect 2 as b;\n");
  ShellSettings settings;
  settings.mode = OutputMode::kCsv;
  SqlShell shell(db_, settings, out_.file(), err_.file());
  EXPECT_FALSE(shell.run_file(script));
  EXPECT_EQ(out_.text(), "a\n1\n");
  EXPECT_EQ(shell.exit_code(), 3);
}

TEST_F(SqlShellTest, QuitKeepsTheErrorStatus) {
  SqlShell shell(db_, {}, out_.file(), err_.file());
  TempDir dir;
  EXPECT_FALSE(shell.run_file(dir.write("s.sql", "select nope;\n.quit\nselect 1;\n")));
  EXPECT_EQ(shell.exit_code(), 1);
}

// "Run Time: real S.SSS" lines, one per statement.
bool is_timer_output(const std::string& text, int lines) {
  const std::string prefix = "Run Time: real ";
  std::size_t pos = 0;
  for (int i = 0; i < lines; ++i) {
    if (text.compare(pos, prefix.size(), prefix) != 0) return false;
    pos += prefix.size();
    const std::size_t dot = text.find('.', pos);
    const std::size_t nl = text.find('\n', pos);
    if (dot == std::string::npos || nl != dot + 4 || dot == pos) return false;
    for (std::size_t k = pos; k < nl; ++k) {
      if (k != dot && !std::isdigit(static_cast<unsigned char>(text[k]))) return false;
    }
    pos = nl + 1;
  }
  return pos == text.size();
}

TEST_F(SqlShellTest, TimerPrintsRunTimeOnErrorStream) {
  ShellSettings settings;
  settings.timer = true;
  SqlShell shell(db_, settings, out_.file(), err_.file());
  EXPECT_TRUE(shell.run_command_string("select 1; select 2;", 1));
  EXPECT_TRUE(is_timer_output(err_.text(), 2)) << err_.text();
  EXPECT_FALSE(is_timer_output("Run Time: real 0.12\n", 1));
  EXPECT_FALSE(is_timer_output("Run Time: real 0.123\nextra", 1));
}

TEST_F(SqlShellTest, LastStatementWithoutSemicolonRuns) {
  ShellSettings settings;
  settings.mode = OutputMode::kCsv;
  settings.headers = false;
  SqlShell shell(db_, settings, out_.file(), err_.file());
  EXPECT_TRUE(shell.run_command_string("select 1;\nselect\n 2", 1));
  EXPECT_EQ(out_.text(), "1\n2\n");
}

TEST_F(SqlShellTest, ValuesOfEveryType) {
  ShellSettings settings;
  settings.mode = OutputMode::kJson;
  SqlShell shell(db_, settings, out_.file(), err_.file());
  EXPECT_TRUE(shell.run_command_string(
      "select 9007199254740993 as i, 0.1 + 0.2 as r, 1e999 as inf, 'Amélie' as t, "
      "x'00ff10' as b, NULL as n, 3.0 as whole",
      1));
  EXPECT_EQ(out_.text(),
            "[\n  {\"i\": 9007199254740993, \"r\": 0.30000000000000004, \"inf\": 1e999, "
            "\"t\": \"Amélie\", \"b\": \"<blob 3 bytes>\", \"n\": null, \"whole\": 3.0}\n]\n");
}

TEST_F(SqlShellTest, TriggersWithBodiesWork) {
  ShellSettings settings;
  settings.mode = OutputMode::kCsv;
  settings.headers = false;
  SqlShell shell(db_, settings, out_.file(), err_.file());
  EXPECT_TRUE(
      shell.run_command_string("create table t(a); create table log(a);\n"
                               "create trigger tr after insert on t begin\n"
                               "  insert into log values (new.a * 10);\n"
                               "end;\n"
                               "insert into t values (4); select a from log;",
                               1));
  EXPECT_EQ(out_.text(), "40\n");
  EXPECT_EQ(err_.text(), "");
}

TEST_F(SqlShellTest, StreamInputStripsCrlfAndBom) {
  TempDir dir;
  const std::string path = dir.write("w.sql", "\xEF\xBB\xBFselect 1 as a;\r\nselect 2 as b;\r\n");
  std::FILE* in = std::fopen(path.c_str(), "rb");
  ASSERT_NE(in, nullptr);
  ShellSettings settings;
  settings.mode = OutputMode::kCsv;
  SqlShell shell(db_, settings, out_.file(), err_.file());
  EXPECT_TRUE(shell.run_stream(in, "stdin"));
  std::fclose(in);
  EXPECT_EQ(out_.text(), "a\n1\nb\n2\n");
  EXPECT_EQ(err_.text(), "");
}

TEST_F(SqlShellTest, SnowflakeCreateOrReplaceRunsAndIsAtomic) {
  ShellSettings settings;
  settings.mode = OutputMode::kCsv;
  settings.headers = false;
  SqlShell shell(db_, settings, out_.file(), err_.file());
  EXPECT_TRUE(
      shell.run_command_string("create table src(a); insert into src values (1), (2);"
                               "create or replace table copy as (select a from src where a > 1);"
                               "create or replace table copy as (select a * 10 as a from src);"
                               "select a from copy order by a;",
                               1));
  EXPECT_EQ(out_.text(), "10\n20\n");
  // A failing CREATE leaves the table it was to replace in place.
  EXPECT_FALSE(
      shell.run_command_string("create or replace table copy as (select * from nope);", 2));
  EXPECT_EQ(err_.text(), "Error: -c #2, statement 1: no such table: nope\n");
  EXPECT_TRUE(shell.run_command_string("select count(*) from copy;", 3));
  EXPECT_EQ(out_.text(), "10\n20\n2\n");
}

TEST_F(SqlShellTest, SnowflakeUseIsIgnoredWithANote) {
  SqlShell shell(db_, {}, out_.file(), err_.file());
  EXPECT_TRUE(shell.run_command_string("use warehouse COMPUTE_WH;", 1));
  EXPECT_THAT(err_.text(), HasSubstr("ignored"));
  EXPECT_EQ(out_.text(), "");
  EXPECT_EQ(shell.exit_code(), 0);
}

TEST(SplitDotCommand, QuotedWords) {
  EXPECT_EQ(split_dot_command("read  'my file.sql'"),
            (std::vector<std::string>{"read", "my file.sql"}));
  EXPECT_EQ(split_dot_command("schema \"a b\" c"),
            (std::vector<std::string>{"schema", "a b", "c"}));
  EXPECT_EQ(split_dot_command("   "), std::vector<std::string>{});
  EXPECT_THROW(split_dot_command("read \"x"), Error);
}

}  // namespace
}  // namespace reco::cli
