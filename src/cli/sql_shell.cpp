#include "cli/sql_shell.h"
#include "training/jobs.h"

#include <poll.h>
#include <readline/history.h>
#include <readline/readline.h>
#include <strings.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "cli/sql_dialect.h"
#include "core/error.h"
#include "sqlfunctions/functions.h"
#include "storage/sql_text.h"

namespace reco::cli {

namespace {

constexpr int kMaxReadDepth = 16;
constexpr int kHistoryEntries = 1000;
constexpr const char* kPrompt = "reco> ";
constexpr const char* kContinuationPrompt = "  ...> ";

constexpr const char* kHelp =
    R"(SQL statements end with ';' and may span lines. Dot-commands take one line:
  .help                 this text
  .tables               list tables and views
  .schema [TABLE]       show CREATE statements (of one table and its indexes)
  .mode [MODE]          output mode: table, csv, json or line (no MODE: show it)
  .headers on|off       column names in table and csv output
  .echo on|off          print each statement before running it
  .bail on|off          stop a script at its first error
  .timer on|off         print the run time of each statement (on stderr)
  .read FILE            run the SQL and dot-commands in FILE
  .quit, .exit [CODE]   leave (CODE: the exit status)
)";

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n\f\v";
  const std::size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

bool is_dot_command(std::string_view line) {
  const std::string_view t = trim(line);
  return !t.empty() && t.front() == '.';
}

std::optional<bool> parse_switch(std::string_view word) {
  if (word == "on" || word == "yes" || word == "true" || word == "1") return true;
  if (word == "off" || word == "no" || word == "false" || word == "0") return false;
  return std::nullopt;
}

// A column holds JSON when it is declared with one of Snowflake's semi-structured types (or
// JSON), or when its value comes from a JSON function (SQLite's json1 and reco's functions mark
// their results with the subtype 'J').
bool json_column(sqlite3_stmt* stmt, int i) {
  if (sqlite3_value_subtype(sqlite3_column_value(stmt, i)) == sqlfunctions::kJsonSubtype)
    return true;
  const char* declared = sqlite3_column_decltype(stmt, i);
  if (declared == nullptr) return false;
  for (const char* type : {"json", "variant", "object", "array"}) {
    if (::strcasecmp(declared, type) == 0) return true;
  }
  return false;
}

Cell column_cell(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER:
      return Cell::integer(sqlite3_column_int64(stmt, i));
    case SQLITE_FLOAT:
      return Cell::real(sqlite3_column_double(stmt, i));
    case SQLITE_TEXT: {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
      std::string value(text ? text : "", sqlite3_column_bytes(stmt, i));
      return json_column(stmt, i) ? Cell::json_or_text(std::move(value))
                                  : Cell::of_text(std::move(value));
    }
    case SQLITE_BLOB:
      return Cell::blob(static_cast<std::size_t>(sqlite3_column_bytes(stmt, i)));
    default:
      return Cell::null();
  }
}

// Ctrl-C in the interactive shell interrupts the running statement, or cancels the input line
// at the prompt. Signal handlers can only reach globals.
volatile std::sig_atomic_t g_sigint = 0;
volatile std::sig_atomic_t g_sigwinch = 0;
sqlite3* volatile g_running_db = nullptr;
storage::Warehouse* volatile g_running_warehouse = nullptr;

extern "C" void on_sigint(int) {
  g_sigint = 1;
  if (sqlite3* db = g_running_db) sqlite3_interrupt(db);
  if (storage::Warehouse* w = g_running_warehouse) w->cancel_running();
  // A training the statement runs (train_and_get_recommendations) stops within an epoch.
  training::interrupt_running_jobs();
}
extern "C" void on_sigwinch(int) {
  g_sigwinch = 1;
}

// readline's callback interface hands each line to a plain function.
std::optional<std::string> g_rl_line;
bool g_rl_eof = false;
bool g_rl_done = false;
extern "C" void on_readline_line(char* line) {
  // Removing the handler here keeps readline from showing the prompt again right away.
  rl_callback_handler_remove();
  g_rl_done = true;
  if (line == nullptr) {
    g_rl_eof = true;
  } else {
    g_rl_line = std::string(line);
    std::free(line);
  }
}

// On a warehouse server, the statements translate_snowflake() must still rewrite: CREATE OR
// REPLACE TABLE (PostgreSQL has no such form) and USE.
bool needs_translation_on_server(std::string_view statement) {
  const std::string keyword = storage::first_keyword(statement);
  if (keyword == "USE") return true;
  if (keyword != "CREATE") return false;
  std::string upper;
  for (const char c : statement.substr(0, 200)) {
    upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  std::string words;  // single spaces between words
  for (const char c : upper) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!words.empty() && words.back() != ' ') words += ' ';
    } else {
      words += c;
    }
  }
  return words.find("CREATE OR REPLACE TABLE ") != std::string::npos;
}

Cell cell_of(const storage::Value& v, bool json) {
  if (const auto* n = std::get_if<int64_t>(&v)) return Cell::integer(*n);
  if (const auto* d = std::get_if<double>(&v)) return Cell::real(*d);
  if (const auto* t = std::get_if<std::string>(&v)) {
    return json ? Cell::json_or_text(*t) : Cell::of_text(*t);
  }
  return Cell::null();
}

// reco's SQL functions on PostgreSQL come from its extension: say so when one is missing.
std::string missing_function_advice(std::string message) {
  static const char* const kFunctions[] = {"train_and_get_recommendations", "deploy_model",
                                           "invoke_model", "recommend"};
  if (message.find("does not exist") == std::string::npos) return message;
  for (const char* f : kFunctions) {
    if (message.find(fmt::format("function {}(", f)) != std::string::npos) {
      // PostgreSQL's hint (add explicit type casts) would send the user the wrong way.
      message = message.substr(0, message.find("; hint: "));
      return message + fmt::format(
                           "; on PostgreSQL, reco's SQL functions ({} and the others) come from "
                           "its extension: run CREATE EXTENSION reco; in this database (it is "
                           "installed into the server by make pg-extension)",
                           f);
    }
  }
  return message;
}

}  // namespace

std::vector<std::string> split_dot_command(std::string_view line) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size()) break;
    std::string word;
    if (line[i] == '\'' || line[i] == '"') {
      const char quote = line[i];
      const std::size_t close = line.find(quote, i + 1);
      if (close == std::string_view::npos) {
        throw Error(ErrorKind::kUsage,
                    fmt::format("unterminated {} quote in dot-command argument", quote));
      }
      word = std::string(line.substr(i + 1, close - i - 1));
      i = close + 1;
    } else {
      while (i < line.size() && line[i] != ' ' && line[i] != '\t') word += line[i++];
    }
    words.push_back(std::move(word));
  }
  return words;
}

namespace {

class StringInput final : public ShellInput {
 public:
  explicit StringInput(std::string_view text) : text_(text) {}
  std::optional<std::string> read(bool) override {
    if (pos_ >= text_.size()) return std::nullopt;
    std::size_t nl = text_.find('\n', pos_);
    if (nl == std::string_view::npos) nl = text_.size();
    std::string line(text_.substr(pos_, nl - pos_));
    pos_ = nl + 1;
    return line;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

class StreamInput final : public ShellInput {
 public:
  StreamInput(std::FILE* in, std::string name) : in_(in), name_(std::move(name)) {}
  StreamInput(const StreamInput&) = delete;
  StreamInput& operator=(const StreamInput&) = delete;
  ~StreamInput() override { std::free(buf_); }

  std::optional<std::string> read(bool) override {
    errno = 0;
    const ssize_t n = ::getline(&buf_, &cap_, in_);
    if (n < 0) {
      if (std::ferror(in_)) {
        throw Error(ErrorKind::kIo, fmt::format("cannot read {}: {}", name_, std::strerror(errno)));
      }
      return std::nullopt;
    }
    std::string_view line(buf_, static_cast<std::size_t>(n));
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);           // CRLF scripts
    if (first_ && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);  // UTF-8 BOM
    first_ = false;
    return std::string(line);
  }

 private:
  std::FILE* in_;
  std::string name_;
  char* buf_ = nullptr;
  std::size_t cap_ = 0;
  bool first_ = true;
};

// GNU readline through its callback interface, so that Ctrl-C at the prompt can cancel the
// line: our own ppoll() returns on the signal, where blocking readline() would keep reading.
class ReadlineInput final : public ShellInput {
 public:
  explicit ReadlineInput(std::filesystem::path history_file)
      : history_file_(std::move(history_file)) {
    rl_readline_name = "reco";
    rl_catch_signals = 0;  // SIGINT and SIGWINCH are ours (see run_interactive)
    rl_catch_sigwinch = 0;
    rl_instream = stdin;
    // Prompts and echoed keys are not data: keep them out of a redirected stdout.
    rl_outstream = ::isatty(STDOUT_FILENO) ? stdout : stderr;
    using_history();
    stifle_history(kHistoryEntries);
    // Timestamps mark where each entry begins, so multi-line statements come back whole.
    history_comment_char = '#';  // timestamps are written only when this is set
    history_write_timestamps = 1;
    history_multiline_entries = 1;
    if (!history_file_.empty()) read_history(history_file_.c_str());  // absent on first use
  }
  ReadlineInput(const ReadlineInput&) = delete;
  ReadlineInput& operator=(const ReadlineInput&) = delete;
  ~ReadlineInput() override {
    add_entry();
    save_history();
  }

  std::optional<std::string> read(bool continuation) override {
    if (!continuation) add_entry();
    g_rl_line.reset();
    g_rl_eof = false;
    g_rl_done = false;
    rl_callback_handler_install(continuation ? kContinuationPrompt : kPrompt, on_readline_line);
    // SIGINT and SIGWINCH stay blocked except inside ppoll(), so one that arrives while a key
    // is being handled is seen at the next wait instead of being lost before it.
    sigset_t blocked, waiting;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGINT);
    sigaddset(&blocked, SIGWINCH);
    sigprocmask(SIG_BLOCK, &blocked, &waiting);
    sigdelset(&waiting, SIGINT);
    sigdelset(&waiting, SIGWINCH);
    while (!g_rl_done) {
      if (g_sigwinch) {
        g_sigwinch = 0;
        rl_resize_terminal();
      }
      if (g_sigint) {
        g_sigint = 0;
        rl_free_line_state();
        rl_callback_sigcleanup();
        rl_callback_handler_remove();
        std::fputs("^C\n", rl_outstream);
        std::fflush(rl_outstream);
        entry_.clear();
        cancelled_ = true;
        sigprocmask(SIG_UNBLOCK, &blocked, nullptr);
        return std::string();
      }
      pollfd fd{fileno(rl_instream), POLLIN, 0};
      if (::ppoll(&fd, 1, nullptr, &waiting) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      rl_callback_read_char();
    }
    sigprocmask(SIG_UNBLOCK, &blocked, nullptr);
    if (!g_rl_done) rl_callback_handler_remove();
    if (g_rl_eof || !g_rl_line) return std::nullopt;  // readline has ended the line itself
    if (!entry_.empty()) entry_ += '\n';
    entry_ += *g_rl_line;
    return std::move(*g_rl_line);
  }

  bool take_cancel() override { return std::exchange(cancelled_, false); }

 private:
  // One history entry per statement (or dot-command), even when typed over several lines.
  void add_entry() {
    if (trim(entry_).empty()) {
      entry_.clear();
      return;
    }
    HIST_ENTRY* last =
        history_length > 0 ? history_get(history_base + history_length - 1) : nullptr;
    if (last == nullptr || entry_ != last->line) add_history(entry_.c_str());
    entry_.clear();
  }

  void save_history() {
    if (history_file_.empty()) return;
    // Written to a temporary name and renamed, so a concurrent shell never reads half a file.
    std::filesystem::path tmp = history_file_;
    tmp += fmt::format(".tmp-{}", ::getpid());
    const int rc = write_history(tmp.c_str());
    std::error_code ec;
    if (rc == 0) std::filesystem::rename(tmp, history_file_, ec);
    if (rc != 0 || ec) {
      std::filesystem::remove(tmp, ec);
      fmt::print(stderr, "warning: could not save the SQL history to {}: {}\n",
                 history_file_.string(), std::strerror(rc != 0 ? rc : ec.value()));
    }
  }

  std::filesystem::path history_file_;
  std::string entry_;
  bool cancelled_ = false;
};

// Installs the interactive signal handlers for its lifetime.
class InteractiveSignals {
 public:
  InteractiveSignals() {
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    // Restarting keeps a write of results from failing with EINTR; ppoll() is never restarted,
    // so the prompt still wakes up.
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &old_int_);
    sa.sa_handler = on_sigwinch;
    sigaction(SIGWINCH, &sa, &old_winch_);
  }
  ~InteractiveSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGWINCH, &old_winch_, nullptr);
  }
  InteractiveSignals(const InteractiveSignals&) = delete;
  InteractiveSignals& operator=(const InteractiveSignals&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_winch_ {};
};

// Outside the interactive shell (-c, a file, stdin): the first Ctrl-C interrupts the running
// statement (and the training it runs) and stops the script there; a second one ends the
// process at once.
std::atomic<int> g_batch_interrupts{0};
extern "C" void on_batch_sigint(int) {
  if (g_batch_interrupts.fetch_add(1) + 1 >= 2) {
    ::signal(SIGINT, SIG_DFL);
    ::raise(SIGINT);
    return;
  }
  on_sigint(SIGINT);
}

class BatchSignals {
 public:
  BatchSignals() {
    g_batch_interrupts.store(0);
    struct sigaction sa {};
    sa.sa_handler = on_batch_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &old_int_);
  }
  ~BatchSignals() { sigaction(SIGINT, &old_int_, nullptr); }
  BatchSignals(const BatchSignals&) = delete;
  BatchSignals& operator=(const BatchSignals&) = delete;

 private:
  struct sigaction old_int_ {};
};

}  // namespace

SqlShell::SqlShell(sqlite3* db, ShellSettings settings, std::FILE* out, std::FILE* err)
    : db_(db), settings_(settings), out_(out), err_(err) {}

SqlShell::SqlShell(storage::Warehouse& warehouse, ShellSettings settings, std::FILE* out,
                   std::FILE* err)
    : warehouse_(&warehouse), settings_(settings), out_(out), err_(err) {}

int SqlShell::exit_code() const {
  return forced_exit_code_.value_or(exit_code_);
}

bool SqlShell::run_command_string(std::string_view sql, std::size_t index) {
  const BatchSignals signals;
  StringInput input(sql);
  Source source{SourceKind::kCommand, "-c", index, 0, 0};
  return run_lines(input, source);
}

bool SqlShell::run_file(const std::string& path) {
  return run_file_at_depth(path, 0);
}

bool SqlShell::run_file_at_depth(const std::string& path, int depth) {
  if (path == "-") return run_stream(stdin, "stdin");
  std::FILE* in = std::fopen(path.c_str(), "rb");
  if (in == nullptr) {
    throw Error(ErrorKind::kNotFound,
                fmt::format("cannot open SQL script '{}': {}", path, std::strerror(errno)));
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> closer(in, &std::fclose);
  std::optional<BatchSignals> signals;
  if (depth == 0) signals.emplace();
  StreamInput input(in, path);
  Source source{SourceKind::kFile, path, 0, depth, 0};
  return run_lines(input, source);
}

bool SqlShell::run_stream(std::FILE* in, const std::string& name) {
  const BatchSignals signals;
  StreamInput input(in, name);
  Source source{SourceKind::kStdin, name, 0, 0, 0};
  return run_lines(input, source);
}

void SqlShell::run_interactive(const std::filesystem::path& history_file,
                               const std::string& banner) {
  if (!banner.empty()) print_err(banner);
  InteractiveSignals signals;
  ReadlineInput input(history_file);
  Source source{SourceKind::kInteractive, "stdin", 0, 0, 0};
  run_lines(input, source);
}

bool SqlShell::run_lines(ShellInput& input, Source& source) {
  StatementSplitter splitter = warehouse_ ? StatementSplitter::postgres() : StatementSplitter();
  while (!quit_) {
    std::optional<std::string> line = input.read(splitter.in_statement());
    if (input.take_cancel()) {
      splitter.discard();
      continue;
    }
    if (!line) break;
    if (!splitter.in_statement() && is_dot_command(*line)) {
      // Comments waiting in the splitter come first, so echoed output keeps the input order.
      if (std::optional<SqlChunk> comments = splitter.take_rest()) {
        if (run_chunk(*comments, source) == Outcome::kStop) return false;
      }
      const std::size_t line_number = splitter.next_line();
      splitter.skip_line();
      if (run_dot_command(*line, source, line_number) == Outcome::kStop) return false;
      continue;
    }
    splitter.add_line(*line);
    while (std::optional<SqlChunk> chunk = splitter.next()) {
      if (run_chunk(*chunk, source) == Outcome::kStop) return false;
      if (source.kind != SourceKind::kInteractive && g_batch_interrupts.load() > 0) {
        print_err("reco sql: interrupted (Ctrl-C); the rest of the input is not run\n");
        forced_exit_code_ = 130;  // what a shell reports for Ctrl-C
        return false;
      }
    }
  }
  if (quit_) return false;
  // A last statement without its semicolon still runs, as in the sqlite3 shell.
  if (std::optional<SqlChunk> rest = splitter.take_rest()) {
    if (run_chunk(*rest, source) == Outcome::kStop) return false;
  }
  return !quit_;
}

SqlShell::Outcome SqlShell::run_chunk(const SqlChunk& chunk, Source& source) {
  const std::string_view text = trim(chunk.text);
  if (settings_.echo && !text.empty()) echo(text);
  if (!chunk.has_sql) return Outcome::kContinue;
  ++source.statements;
  std::fflush(out_);  // SQL functions may log on stderr while the statement runs

  // The guide's Snowflake forms (CREATE OR REPLACE, CREATE TABLE AS (...), USE) run as SQLite.
  // A warehouse server speaks its own dialect (PostgreSQL has CREATE TABLE AS (...) and jsonb
  // subscripts): only CREATE OR REPLACE TABLE and USE are translated for it.
  Translation translation;
  if (warehouse_ && !needs_translation_on_server(chunk.text)) {
    translation.statements.push_back(chunk.text);
  } else {
    translation = translate_snowflake(chunk.text);
  }
  if (!translation.note.empty()) print_err(translation.note + "\n");
  if (!translation.error.empty()) return fail(source, chunk.first_line, translation.error, true);
  // DROP + CREATE must not lose the old table when the CREATE fails.
  const bool atomic = translation.statements.size() > 1;
  std::unique_ptr<storage::Transaction> transaction;
  std::optional<std::string> error;
  if (atomic && warehouse_) {
    try {
      transaction = warehouse_->begin();
    } catch (const Error& e) {
      return fail(source, chunk.first_line, e.what(), true);
    }
  } else if (atomic) {
    sqlite3_exec(db_, "SAVEPOINT reco_shell_statement", nullptr, nullptr, nullptr);
  }
  const auto start = std::chrono::steady_clock::now();
  for (const std::string& statement : translation.statements) {
    error = warehouse_ ? run_warehouse_text(statement) : run_sql_text(statement);
    if (error) break;
  }
  if (transaction && !error) {
    try {
      transaction->commit();
    } catch (const Error& e) {
      error = e.what();
    }
  }
  transaction.reset();  // rolls back after an error
  if (atomic && !warehouse_) {
    const char* end = error ? "ROLLBACK TO reco_shell_statement; RELEASE reco_shell_statement"
                            : "RELEASE reco_shell_statement";
    sqlite3_exec(db_, end, nullptr, nullptr, nullptr);
  }
  if (settings_.timer) {
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    print_err(fmt::format("Run Time: real {:.3f}\n", elapsed.count()));
  }
  if (error) return fail(source, chunk.first_line, *error, true);
  return Outcome::kContinue;
}

std::optional<std::string> SqlShell::run_sql_text(const std::string& text) {
  const char* sql = text.c_str();
  while (*sql != '\0') {
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &stmt, &tail) != SQLITE_OK) {
      std::string message = sqlite3_errmsg(db_);
      sqlite3_finalize(stmt);
      return message;
    }
    if (stmt == nullptr) break;  // only comments or semicolons were left
    if (std::optional<std::string> error = run_statement(stmt)) return error;
    sql = tail;
  }
  return std::nullopt;
}

std::optional<std::string> SqlShell::run_statement(sqlite3_stmt* stmt) {
  const int columns = sqlite3_column_count(stmt);
  std::unique_ptr<ResultPrinter> printer;
  std::vector<std::string> names;
  if (columns > 0) {
    printer = make_printer(settings_.mode, settings_.headers,
                           [this](std::string_view text) { print_out(text); });
    for (int i = 0; i < columns; ++i) {
      const char* name = sqlite3_column_name(stmt, i);
      names.emplace_back(name ? name : "");
    }
    printer->begin(names);
  }
  std::vector<Cell> row(static_cast<std::size_t>(columns));
  std::optional<std::string> error;
  g_running_db = db_;
  while (true) {
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      if (printer) {
        for (int i = 0; i < columns; ++i) row[static_cast<std::size_t>(i)] = column_cell(stmt, i);
        printer->row(row);
      }
      continue;
    }
    if (rc != SQLITE_DONE) error = sqlite3_errmsg(db_);
    break;
  }
  g_running_db = nullptr;
  g_sigint = 0;
  sqlite3_finalize(stmt);
  // A failed statement shows no half table; streamed modes have printed their rows already.
  if (printer && !error) printer->end();
  std::fflush(out_);
  return error;
}

std::optional<std::string> SqlShell::run_warehouse_text(const std::string& text) {
  std::string_view rest = text;
  while (!storage::only_blank_or_comments(rest)) {
    const std::size_t end = storage::statement_end(rest);
    const std::string statement(rest.substr(0, end));
    rest.remove_prefix(end);
    // Rows are printed as the server sends them; a failed statement shows no half table in
    // the table mode (streamed modes have printed their rows already, as with SQLite).
    std::unique_ptr<ResultPrinter> printer;
    std::vector<bool> json;
    std::vector<Cell> cells;
    g_running_warehouse = warehouse_;
    std::optional<std::string> error;
    try {
      warehouse_->query_rows(
          statement,
          [&](const storage::ResultSet& head) {
            if (head.columns.empty()) return;
            printer = make_printer(settings_.mode, settings_.headers,
                                   [this](std::string_view text) { print_out(text); });
            printer->begin(head.columns);
            json = head.json_columns;
            cells.resize(head.columns.size());
          },
          [&](const std::vector<storage::Value>& values) {
            for (std::size_t i = 0; i < values.size(); ++i) {
              cells[i] = cell_of(values[i], i < json.size() && json[i]);
            }
            printer->row(cells);
          });
    } catch (const Error& e) {
      error = missing_function_advice(e.what());
    }
    g_running_warehouse = nullptr;
    g_sigint = 0;
    if (error) return error;
    if (printer) printer->end();
    std::fflush(out_);
  }
  return std::nullopt;
}

SqlShell::Outcome SqlShell::run_dot_command(std::string_view line, Source& source,
                                            std::size_t line_number) {
  const std::string_view text = trim(line);
  if (settings_.echo) echo(text);
  std::vector<std::string> words;
  try {
    words = split_dot_command(text.substr(1));
  } catch (const Error& e) {
    return fail(source, line_number, e.what());
  }
  if (words.empty())
    return fail(source, line_number, "empty dot-command (enter .help for the list)");
  const std::string& cmd = words[0];
  const std::size_t nargs = words.size() - 1;
  const auto usage = [&](const char* synopsis) {
    return fail(source, line_number, fmt::format("usage: {}", synopsis));
  };
  const auto set_switch = [&](bool& flag, const char* synopsis) {
    if (nargs != 1) return usage(synopsis);
    const std::optional<bool> value = parse_switch(words[1]);
    if (!value) return usage(synopsis);
    flag = *value;
    return Outcome::kContinue;
  };

  if (cmd == "help") {
    print_out(kHelp);
    return Outcome::kContinue;
  }
  if (cmd == "tables") {
    if (nargs != 0) return usage(".tables");
    return dot_tables(source, line_number);
  }
  if (cmd == "schema") {
    if (nargs > 1) return usage(".schema [TABLE]");
    return dot_schema(source, line_number, nargs == 1 ? &words[1] : nullptr);
  }
  if (cmd == "mode") {
    if (nargs == 0) {
      print_out(fmt::format("current output mode: {}\n", output_mode_name(settings_.mode)));
      return Outcome::kContinue;
    }
    const std::optional<OutputMode> mode = nargs == 1 ? parse_output_mode(words[1]) : std::nullopt;
    if (!mode) return usage(".mode table|csv|json|line");
    settings_.mode = *mode;
    return Outcome::kContinue;
  }
  if (cmd == "headers" || cmd == "header") return set_switch(settings_.headers, ".headers on|off");
  if (cmd == "echo") return set_switch(settings_.echo, ".echo on|off");
  if (cmd == "bail") return set_switch(settings_.bail, ".bail on|off");
  if (cmd == "timer") return set_switch(settings_.timer, ".timer on|off");
  if (cmd == "read") {
    if (nargs != 1) return usage(".read FILE");
    return run_nested_file(words[1], source, line_number);
  }
  if (cmd == "quit" || cmd == "exit") {
    if (nargs > 1 || (cmd == "quit" && nargs == 1)) return usage(".quit | .exit [CODE]");
    if (nargs == 1) {
      int code = 0;
      const std::string& arg = words[1];
      const auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), code);
      if (ec != std::errc() || end != arg.data() + arg.size() || code < 0 || code > 255) {
        return fail(source, line_number,
                    fmt::format(".exit: CODE must be a number from 0 to 255, not '{}'", arg));
      }
      forced_exit_code_ = code;
    }
    quit_ = true;
    return Outcome::kStop;
  }
  return fail(source, line_number,
              fmt::format("unknown command: .{} (enter .help for the list)", cmd));
}

SqlShell::Outcome SqlShell::run_nested_file(const std::string& path, const Source& parent,
                                            std::size_t line) {
  if (parent.depth + 1 > kMaxReadDepth) {
    return fail(parent, line,
                fmt::format(".read {}: files nested more than {} deep (does it read itself?)", path,
                            kMaxReadDepth));
  }
  try {
    return run_file_at_depth(path, parent.depth + 1) ? Outcome::kContinue : Outcome::kStop;
  } catch (const Error& e) {
    return fail(parent, line, e.what());
  }
}

namespace {

// Rows of both the main and the temp schema, user objects only (reco's own bookkeeping tables,
// "_reco_*", are not the user's).
constexpr const char* kSchemaRows =
    "SELECT 0 AS db, name, tbl_name, type, sql FROM sqlite_schema "
    "WHERE tbl_name NOT LIKE '\\_reco\\_%' ESCAPE '\\' "
    "UNION ALL SELECT 1, name, tbl_name, type, sql FROM sqlite_temp_schema";

}  // namespace

SqlShell::Outcome SqlShell::dot_tables(const Source& source, std::size_t line) {
  if (warehouse_) {
    std::string out;
    try {
      for (const auto& t : warehouse_->tables()) out += t.name + "\n";
    } catch (const Error& e) {
      return fail(source, line, e.what());
    }
    print_out(out);
    return Outcome::kContinue;
  }
  const std::string sql = fmt::format(
      "SELECT CASE db WHEN 1 THEN 'temp.' ELSE '' END || name FROM ({}) "
      "WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
      "ORDER BY db, name",
      kSchemaRows);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    std::string message = sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    return fail(source, line, message);
  }
  std::string out;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    out += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    out += '\n';
  }
  std::string message = rc == SQLITE_DONE ? std::string() : sqlite3_errmsg(db_);
  sqlite3_finalize(stmt);
  if (!message.empty()) return fail(source, line, message);
  print_out(out);
  return Outcome::kContinue;
}

SqlShell::Outcome SqlShell::dot_schema(const Source& source, std::size_t line,
                                       const std::string* table) {
  if (warehouse_) {
    // The server's catalog, written as CREATE TABLE statements (columns and their types).
    std::string out;
    try {
      for (const auto& t : warehouse_->tables()) {
        if (table && ::strcasecmp(t.name.c_str(), table->c_str()) != 0) continue;
        std::string columns;
        for (const auto& c : t.columns) {
          columns += fmt::format("{}{} {}", columns.empty() ? "" : ", ", quote_identifier(c.name),
                                 c.declared_type);
        }
        out += fmt::format("CREATE {} {} ({});\n", t.view ? "VIEW" : "TABLE", t.name, columns);
      }
    } catch (const Error& e) {
      return fail(source, line, e.what());
    }
    if (table && out.empty()) return fail(source, line, fmt::format("no such table: {}", *table));
    print_out(out);
    return Outcome::kContinue;
  }
  const std::string sql = fmt::format(
      "SELECT sql FROM ({}) WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
      "AND (?1 IS NULL OR tbl_name = ?1 COLLATE NOCASE OR name = ?1 COLLATE NOCASE) "
      "ORDER BY db, tbl_name, CASE type WHEN 'table' THEN 0 WHEN 'view' THEN 1 "
      "WHEN 'index' THEN 2 ELSE 3 END, name",
      kSchemaRows);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    std::string message = sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    return fail(source, line, message);
  }
  if (table) sqlite3_bind_text(stmt, 1, table->c_str(), -1, SQLITE_TRANSIENT);
  std::string out;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    out += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    out += ";\n";
  }
  std::string message = rc == SQLITE_DONE ? std::string() : sqlite3_errmsg(db_);
  sqlite3_finalize(stmt);
  if (!message.empty()) return fail(source, line, message);
  if (table && out.empty()) return fail(source, line, fmt::format("no such table: {}", *table));
  print_out(out);
  return Outcome::kContinue;
}

SqlShell::Outcome SqlShell::fail(const Source& source, std::size_t line, const std::string& message,
                                 bool in_statement) {
  // A typo at the prompt is part of working interactively, not a failure of the session.
  if (source.kind != SourceKind::kInteractive) exit_code_ = 1;
  std::string text = message;
  // A missing table is often the wrong warehouse (another home or --db): say which one this is.
  const char* file = db_ ? sqlite3_db_filename(db_, "main") : nullptr;
  if (text.starts_with("no such table") && file != nullptr && *file != '\0') {
    text += fmt::format(" (in the warehouse {})", file);
  } else if (warehouse_ && text.starts_with("relation \"") &&
             text.find("does not exist") != std::string::npos) {
    text += fmt::format(" (in the warehouse {})", warehouse_->location());
  }
  print_err(fmt::format("Error: {}{}\n", location(source, line, in_statement), text));
  const bool stop = source.kind == SourceKind::kCommand ||
                    (settings_.bail && source.kind != SourceKind::kInteractive);
  return stop ? Outcome::kStop : Outcome::kContinue;
}

std::string SqlShell::location(const Source& source, std::size_t line, bool in_statement) const {
  switch (source.kind) {
    case SourceKind::kCommand:
      return in_statement ? fmt::format("-c #{}, statement {}: ", source.index, source.statements)
                          : fmt::format("-c #{}: ", source.index);
    case SourceKind::kFile:
      return source.depth == 0 ? fmt::format("near line {}: ", line)
                               : fmt::format("near line {} of {}: ", line, source.name);
    case SourceKind::kStdin:
      return fmt::format("near line {}: ", line);
    case SourceKind::kInteractive:
      return std::string();
  }
  return std::string();
}

void SqlShell::print_out(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), out_);
}

void SqlShell::print_err(std::string_view text) {
  std::fflush(out_);  // keep the order of results and messages when both go to one pipe
  std::fwrite(text.data(), 1, text.size(), err_);
  std::fflush(err_);
}

void SqlShell::echo(std::string_view text) {
  print_out(text);
  print_out("\n");
}

}  // namespace reco::cli
