#pragma once
// The engine behind `reco sql`: runs SQL and dot-commands from -c strings, script files, stdin
// or an interactive readline prompt against one SQLite connection, and prints each result set
// with a ResultPrinter. On a warehouse that is not SQLite (PostgreSQL) the statements go through
// the storage::Warehouse interface instead. Statements run one at a time, so an error names the
// line where its statement begins and, unless bail is on, the rest of the input still runs. Each
// statement goes through translate_snowflake() first, so the guide's CREATE OR REPLACE / USE forms
// work.

#include <sqlite3.h>

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/sql_shell_splitter.h"
#include "cli/table_printer.h"
#include "storage/warehouse.h"

namespace reco::cli {

// Where the shell's input lines come from: a string, a file, stdin or the readline prompt.
class ShellInput {
 public:
  virtual ~ShellInput() = default;
  // The next line without its newline, or nothing at end of input. continuation: a statement
  // is unfinished, so an interactive input shows the continuation prompt.
  virtual std::optional<std::string> read(bool continuation) = 0;
  // True once after the user cancelled the current input with Ctrl-C.
  virtual bool take_cancel() { return false; }
};

struct ShellSettings {
  OutputMode mode = OutputMode::kTable;
  bool headers = true;
  bool echo = false;   // print each statement and dot-command before running it
  bool bail = false;   // stop at the first error (never in interactive input)
  bool timer = false;  // print "Run Time: real S" on the error stream after each statement
};

class SqlShell {
 public:
  // The shell borrows db; out receives results (and echo), err receives errors and timings.
  SqlShell(sqlite3* db, ShellSettings settings, std::FILE* out, std::FILE* err);
  // A warehouse server (PostgreSQL): SQL runs through warehouse.query(), in the server's dialect.
  SqlShell(storage::Warehouse& warehouse, ShellSettings settings, std::FILE* out, std::FILE* err);
  SqlShell(const SqlShell&) = delete;
  SqlShell& operator=(const SqlShell&) = delete;

  // Each run_* returns false when the caller must not run more input: .quit/.exit, or an error
  // while bail is on. A -c string always stops at its first error.
  bool run_command_string(std::string_view sql, std::size_t index);  // index: 1 for the first -c
  bool run_file(const std::string& path);                            // "-" reads stdin
  bool run_stream(std::FILE* in, const std::string& name);           // non-interactive input
  // Reads with GNU readline, prompts "reco> " / "  ...> ", keeps history in history_file
  // (nothing is saved when it is empty). Ctrl-C cancels the running statement or the input line.
  void run_interactive(const std::filesystem::path& history_file, const std::string& banner);

  // 1 when a statement or dot-command from a -c string, script or piped stdin failed (errors
  // typed at the interactive prompt do not count), or the code given to ".exit N".
  int exit_code() const;
  const ShellSettings& settings() const { return settings_; }

 private:
  enum class SourceKind { kCommand, kFile, kStdin, kInteractive };
  struct Source {
    SourceKind kind;
    std::string name;       // file name as given, or "stdin"
    std::size_t index = 0;  // -c number
    int depth = 0;          // .read nesting
    std::size_t statements = 0;
  };
  enum class Outcome { kContinue, kStop };

  bool run_file_at_depth(const std::string& path, int depth);
  bool run_lines(ShellInput& input, Source& source);
  Outcome run_chunk(const SqlChunk& chunk, Source& source);
  std::optional<std::string> run_sql_text(const std::string& text);        // the error, if any
  std::optional<std::string> run_statement(sqlite3_stmt* stmt);            // the error, if any
  std::optional<std::string> run_warehouse_text(const std::string& text);  // not SQLite
  Outcome run_dot_command(std::string_view line, Source& source, std::size_t line_number);
  Outcome run_nested_file(const std::string& path, const Source& parent, std::size_t line);
  // Reports an error; in_statement: it is a SQL statement's (-c errors then name its number).
  Outcome fail(const Source& source, std::size_t line, const std::string& message,
               bool in_statement = false);
  std::string location(const Source& source, std::size_t line, bool in_statement) const;
  void print_out(std::string_view text);
  void print_err(std::string_view text);
  void echo(std::string_view text);

  Outcome dot_tables(const Source& source, std::size_t line);
  Outcome dot_schema(const Source& source, std::size_t line, const std::string* table);

  sqlite3* db_ = nullptr;
  storage::Warehouse* warehouse_ = nullptr;  // set instead of db_ for a warehouse server
  ShellSettings settings_;
  std::FILE* out_;
  std::FILE* err_;
  int exit_code_ = 0;
  bool quit_ = false;
  std::optional<int> forced_exit_code_;
};

// Splits a dot-command line into words; '...' and "..." quote words with spaces.
// Throws reco::Error(kUsage) for an unterminated quote.
std::vector<std::string> split_dot_command(std::string_view line);

}  // namespace reco::cli
