#include "storage/sqlite_warehouse.h"

#include <fcntl.h>
#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "core/error.h"
#include "core/process.h"
#include "storage/sql_text.h"

namespace reco::storage {
namespace {

// RAII prepared statement.
class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql) : db_(db) {
    const int rc =
        sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
    if (rc != SQLITE_OK) throw Error(classify(rc), sqlite3_errmsg(db));
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  sqlite3_stmt* get() const { return stmt_; }
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw Error(classify(rc), sqlite3_errmsg(db_));
  }
  static ErrorKind classify(int rc) {
    switch (rc & 0xff) {
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
      case SQLITE_IOERR:
      case SQLITE_FULL:
      case SQLITE_CANTOPEN:
        return ErrorKind::kIo;
      case SQLITE_CORRUPT:
      case SQLITE_NOTADB:
        return ErrorKind::kCorrupt;
      case SQLITE_CONSTRAINT:
      case SQLITE_MISMATCH:
        return ErrorKind::kInput;
      default:
        return ErrorKind::kInput;
    }
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw Error(Statement::classify(rc), msg);
  }
}

// Outside any transaction it is BEGIN IMMEDIATE: the write lock is taken first (waiting through
// the busy handler), so a writer never fails half-way on "database is locked" because another
// committed meanwhile, as a deferred transaction upgraded from a stale read snapshot would.
// Inside the caller's transaction it is a SAVEPOINT, so it nests.
class SqliteTransaction final : public Transaction {
 public:
  SqliteTransaction(sqlite3* db, WriterNote* note) : db_(db) {
    if (sqlite3_get_autocommit(db_)) {
      exec(db_, "BEGIN IMMEDIATE");
      note_ = note;
      if (note_) note_->held();
    } else {
      static std::atomic<uint64_t> counter{0};
      name_ = fmt::format("reco_tx_{}", counter++);
      exec(db_, "SAVEPOINT " + name_);
    }
  }
  ~SqliteTransaction() override {
    if (done_) return;
    // Errors here cannot be reported.
    if (name_.empty()) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      if (note_) note_->released();
    } else {
      sqlite3_exec(db_, ("ROLLBACK TO " + name_ + "; RELEASE " + name_).c_str(), nullptr, nullptr,
                   nullptr);
    }
  }
  void commit() override {
    if (name_.empty()) {
      exec(db_, "COMMIT");
      if (note_) note_->released();
    } else {
      exec(db_, "RELEASE " + name_);
    }
    done_ = true;
  }

 private:
  sqlite3* db_;
  std::string name_;  // empty: the outermost transaction
  WriterNote* note_ = nullptr;
  bool done_ = false;
};

// BEGIN (deferred) .. COMMIT around reads that must see one snapshot.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(sqlite3* db) : db_(db) { exec(db_, "BEGIN"); }
  ~ReadSnapshot() { sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr); }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

 private:
  sqlite3* db_;
};

class SqliteInserter final : public RowInserter {
 public:
  SqliteInserter(sqlite3* db, const std::string& sql) : stmt_(db, sql), db_(db) {}
  void insert(const std::vector<Value>& row) override {
    sqlite3_stmt* s = stmt_.get();
    sqlite3_reset(s);
    for (size_t k = 0; k < row.size(); ++k) {
      const int idx = static_cast<int>(k + 1);
      const Value& v = row[k];
      int rc;
      if (std::holds_alternative<std::monostate>(v)) {
        rc = sqlite3_bind_null(s, idx);
      } else if (auto* i = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(s, idx, *i);
      } else if (auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(s, idx, *d);
      } else {
        const auto& str = std::get<std::string>(v);
        rc = sqlite3_bind_text(s, idx, str.data(), static_cast<int>(str.size()), SQLITE_TRANSIENT);
      }
      if (rc != SQLITE_OK) throw Error(Statement::classify(rc), sqlite3_errmsg(db_));
    }
    stmt_.step();
  }

 private:
  Statement stmt_;
  sqlite3* db_;
};

Value column_value(sqlite3_stmt* s, int col) {
  switch (sqlite3_column_type(s, col)) {
    case SQLITE_INTEGER:
      return static_cast<int64_t>(sqlite3_column_int64(s, col));
    case SQLITE_FLOAT:
      return sqlite3_column_double(s, col);
    case SQLITE_NULL:
      return std::monostate{};
    default: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
      return std::string(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(s, col)));
    }
  }
}

std::string describe(sqlite3_stmt* s, int col) {
  switch (sqlite3_column_type(s, col)) {
    case SQLITE_NULL:
      return "NULL";
    case SQLITE_BLOB:
      return fmt::format("a {}-byte blob", sqlite3_column_bytes(s, col));
    default: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
      return fmt::format("'{}'", p ? p : "");
    }
  }
}

// A numeric value of a ratings column, accepting integers, reals and numeric text.
bool numeric_value(sqlite3_stmt* s, int col, double& out) {
  switch (sqlite3_column_type(s, col)) {
    case SQLITE_INTEGER:
      out = static_cast<double>(sqlite3_column_int64(s, col));
      return true;
    case SQLITE_FLOAT:
      out = sqlite3_column_double(s, col);
      return std::isfinite(out);
    case SQLITE_TEXT: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
      return parse_number_text(
          std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(s, col))), out);
    }
    default:
      return false;
  }
}

bool id_value(sqlite3_stmt* s, int col, int64_t& out) {
  if (sqlite3_column_type(s, col) == SQLITE_INTEGER) {
    out = sqlite3_column_int64(s, col);
    return true;
  }
  double d;
  return numeric_value(s, col, d) && integral_id(d, out);
}

std::string schema_prefix(const TableRef& t) {
  return t.schema ? quote_identifier(*t.schema) + "." : std::string();
}

double busy_timeout_from_environment() {
  const char* text = std::getenv("RECO_BUSY_TIMEOUT");
  if (!text || !*text) return kDefaultBusyTimeoutSeconds;
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || !std::isfinite(v) || v < 0) {
    throw Error(ErrorKind::kUsage,
                fmt::format("RECO_BUSY_TIMEOUT must be a number of seconds >= 0, got '{}'", text));
  }
  return v;
}

std::string process_command_line() {
  std::string text;
  if (std::FILE* f = std::fopen("/proc/self/cmdline", "rb")) {
    char buf[512];
    const size_t n = std::fread(buf, 1, sizeof buf, f);
    std::fclose(f);
    text.assign(buf, n);
    while (!text.empty() && text.back() == '\0') text.pop_back();
    for (char& c : text) {
      if (c == '\0') c = ' ';
    }
  }
  return text;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// WriterNote: "<db>-writer" says which process holds the write lock, so a writer that waits too
// long can name it (SQLite itself cannot tell). Written without fsync: it is a hint.

WriterNote::WriterNote(std::string db_path) : path_(db_path + "-writer") {}

void WriterNote::held() {
  const std::string text =
      fmt::format("{}\n{}\n{}\n", ::getpid(), static_cast<long long>(std::time(nullptr)),
                  process_command_line());
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return;
  const ssize_t written = ::write(fd, text.data(), text.size());
  (void)written;
  ::close(fd);
}

void WriterNote::released() {
  ::unlink(path_.c_str());
}

std::string WriterNote::describe_holder() const {
  std::FILE* f = std::fopen(path_.c_str(), "rb");
  if (!f) return "another connection (not a reco process, or one that has not said)";
  char buf[1024];
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  long long pid = 0, since = 0;
  int used = 0;
  if (std::sscanf(buf, "%lld\n%lld\n%n", &pid, &since, &used) < 2 || pid <= 0) {
    return "another connection";
  }
  std::string command(buf + used);
  while (!command.empty() && command.back() == '\n') command.pop_back();
  if (!process_alive(pid)) {
    return fmt::format("another connection (the last reco writer, pid {}, has exited)", pid);
  }
  return fmt::format("pid {} ({}), for {} s", pid, command.empty() ? "?" : command,
                     std::max<long long>(0, static_cast<long long>(std::time(nullptr)) - since));
}

// Waits with growing sleeps (1 ms to 100 ms) until the lock is free or the timeout passes; says
// once on a terminal's stderr what it waits for.
int SqliteWarehouse::busy_handler(void* arg, int count) {
  auto* self = static_cast<SqliteWarehouse*>(arg);
  const auto now = std::chrono::steady_clock::now();
  if (count == 0) {
    self->busy_since_ = now;
    self->busy_announced_ = false;
  }
  const double waited = std::chrono::duration<double>(now - self->busy_since_).count();
  if (waited >= self->busy_timeout_) {
    self->busy_timed_out_ = true;
    return 0;
  }
  if (waited > 2 && !self->busy_announced_ && ::isatty(STDERR_FILENO)) {
    self->busy_announced_ = true;
    std::fprintf(stderr, "waiting for the warehouse write lock, held by %s ...\n",
                 self->note_ ? self->note_->describe_holder().c_str() : "another connection");
  }
  const int ms = std::min(100, 1 << std::min(count, 7));
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return 1;
}

Error SqliteWarehouse::busy_error(const Error& e) const {
  if (!busy_timed_out_) return e;
  return Error(ErrorKind::kIo,
               fmt::format("the warehouse {} is busy: waited {} s for its write lock, held by {} "
                           "(set RECO_BUSY_TIMEOUT to wait longer)",
                           path_, busy_timeout_,
                           note_ ? note_->describe_holder() : std::string("another connection")));
}

SqliteWarehouse::SqliteWarehouse(sqlite3* db, bool owned, std::string path)
    : db_(db), owned_(owned), path_(std::move(path)) {}

SqliteWarehouse::~SqliteWarehouse() {
  if (owned_) sqlite3_close_v2(db_);
}

namespace {

// Errors after which a read-only connection may still work: the directory or disk refuses the
// files a writer needs (-wal, -shm), not the database itself.
bool read_only_may_help(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_PERM:
      return true;
    default:
      return false;
  }
}

std::string file_uri(const std::string& path, const char* query) {
  std::string uri = "file:";
  for (const char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      uri += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    } else {
      uri += c;
    }
  }
  return uri + query;
}

// Opens and checks one way; the SQLite result code and message on failure.
int try_open(const std::string& name, int flags, sqlite3** out, std::string& message,
             bool configure) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(name.c_str(), &db, flags | SQLITE_OPEN_URI, nullptr);
  if (rc == SQLITE_OK) {
    sqlite3_extended_result_codes(db, 1);
    // Two processes creating the warehouse at once both switch it to WAL, which takes a lock
    // for a moment: wait for it rather than fail (the caller installs its own handler after).
    sqlite3_busy_timeout(db, 10000);
    const char* sql = configure ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                                  "PRAGMA foreign_keys=ON; SELECT count(*) FROM sqlite_schema"
                                : "PRAGMA foreign_keys=ON; SELECT count(*) FROM sqlite_schema";
    char* err = nullptr;
    rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
    if (err) {
      message = err;
      sqlite3_free(err);
    }
  } else {
    message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  }
  if (rc != SQLITE_OK) {
    sqlite3_close_v2(db);
    return rc;
  }
  *out = db;
  return SQLITE_OK;
}

}  // namespace

std::unique_ptr<SqliteWarehouse> SqliteWarehouse::open(const std::string& path) {
  const double busy_timeout = busy_timeout_from_environment();
  const bool file = is_file_database(path);
  sqlite3* db = nullptr;
  std::string message;
  int rc = try_open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &db, message, file);
  std::string read_only_reason;
  std::error_code ec;
  if (rc != SQLITE_OK && file && read_only_may_help(rc) && std::filesystem::exists(path, ec)) {
    // A read-only home or a full disk: reads still work (invoke_model, serving, SELECT).
    read_only_reason = message;
    std::string ignored;
    if (try_open(path, SQLITE_OPEN_READONLY, &db, ignored, false) != SQLITE_OK &&
        try_open(file_uri(path, "?immutable=1"), SQLITE_OPEN_READONLY, &db, ignored, false) !=
            SQLITE_OK) {
      db = nullptr;
    } else {
      rc = SQLITE_OK;
    }
  }
  if (rc != SQLITE_OK) {
    throw Error(Statement::classify(rc),
                fmt::format("cannot open warehouse {}: {}", path, message));
  }
  std::unique_ptr<SqliteWarehouse> w(new SqliteWarehouse(db, true, path));
  w->read_only_reason_ = read_only_reason;
  w->busy_timeout_ = busy_timeout;
  if (file && read_only_reason.empty()) w->note_ = std::make_unique<WriterNote>(path);
  sqlite3_busy_handler(db, &SqliteWarehouse::busy_handler, w.get());
  return w;
}

std::unique_ptr<SqliteWarehouse> SqliteWarehouse::borrow(sqlite3* db) {
  const char* file = sqlite3_db_filename(db, "main");
  return std::unique_ptr<SqliteWarehouse>(
      new SqliteWarehouse(db, false, file && *file ? file : ":memory:"));
}

bool SqliteWarehouse::is_file_database(const std::string& path) {
  return !path.empty() && path != ":memory:" && path.rfind("file::memory:", 0) != 0;
}

std::unique_ptr<Transaction> SqliteWarehouse::begin() {
  if (!read_only_reason_.empty()) {
    throw Error(ErrorKind::kConflict,
                fmt::format("the warehouse {} is read-only here (opening it for writing failed: "
                            "{}); reads work, nothing can be written",
                            path_, read_only_reason_));
  }
  busy_timed_out_ = false;
  try {
    return std::make_unique<SqliteTransaction>(db_, note_.get());
  } catch (const Error& e) {
    throw busy_error(e);
  }
}

std::vector<std::string> SqliteWarehouse::schemas() {
  Statement st(db_, "PRAGMA database_list");
  std::vector<std::string> names;
  while (st.step()) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 1));
    names.emplace_back(p ? p : "");
  }
  return names;
}

void SqliteWarehouse::check_schema(const TableRef& table) {
  // temp exists on every connection, even before its first table (database_list omits it).
  if (!table.schema || strcasecmp(table.schema->c_str(), "main") == 0 ||
      strcasecmp(table.schema->c_str(), "temp") == 0)
    return;
  const auto names = schemas();
  for (const auto& n : names) {
    if (strcasecmp(n.c_str(), table.schema->c_str()) == 0) return;
  }
  std::string known;
  for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
  throw Error(ErrorKind::kNotFound,
              fmt::format("unknown schema '{}' in table name '{}' (this warehouse has: {})",
                          *table.schema, table.display(), known));
}

bool SqliteWarehouse::table_exists(const TableRef& table) {
  check_schema(table);
  // Covers tables and views in the named schema, or in main/temp for unqualified names.
  const std::string sql =
      table.schema ? fmt::format(
                         "SELECT 1 FROM {}.sqlite_schema WHERE type IN ('table','view') AND "
                         "name = ?1 COLLATE NOCASE",
                         quote_identifier(*table.schema))
                   : "SELECT 1 FROM sqlite_schema WHERE type IN ('table','view') AND name = ?1 "
                     "COLLATE NOCASE UNION ALL SELECT 1 FROM sqlite_temp_schema WHERE type IN "
                     "('table','view') AND name = ?1 COLLATE NOCASE";
  Statement st(db_, sql);
  sqlite3_bind_text(st.get(), 1, table.table.data(), static_cast<int>(table.table.size()),
                    SQLITE_TRANSIENT);
  return st.step();
}

std::vector<ColumnInfo> SqliteWarehouse::table_columns(const TableRef& table) {
  if (!table_exists(table)) {
    throw Error(ErrorKind::kNotFound, fmt::format("table '{}' does not exist in the warehouse {}",
                                                  table.display(), path_));
  }
  Statement st(db_, fmt::format("PRAGMA {}table_info({})", schema_prefix(table),
                                quote_identifier(table.table)));
  std::vector<ColumnInfo> cols;
  while (st.step()) {
    auto text = [&](int c) {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st.get(), c));
      return std::string(p ? p : "");
    };
    cols.push_back({text(1), text(2)});
  }
  return cols;
}

const char* column_type_sql(ColumnType type) {
  switch (type) {
    case ColumnType::kInteger:
      return "INTEGER";
    case ColumnType::kReal:
      return "REAL";
    case ColumnType::kText:
      return "TEXT";
    case ColumnType::kJson:
      return "JSON";
  }
  return "TEXT";
}

void SqliteWarehouse::create_table(const TableRef& table, const std::vector<ColumnDef>& columns,
                                   bool replace) {
  check_schema(table);
  if (owned_ && table.schema && strcasecmp(table.schema->c_str(), "temp") == 0) {
    throw Error(ErrorKind::kUsage,
                fmt::format("cannot create table '{}': a temporary table lives only as long as "
                            "this command's connection and would vanish when it ends; use a "
                            "regular table",
                            table.display()));
  }
  if (replace) exec(db_, "DROP TABLE IF EXISTS " + quote_table(table));
  std::string sql = "CREATE TABLE " + quote_table(table) + " (";
  for (size_t k = 0; k < columns.size(); ++k) {
    if (k) sql += ", ";
    sql += quote_identifier(columns[k].name) + " " + column_type_sql(columns[k].type);
  }
  sql += ")";
  try {
    exec(db_, sql);
  } catch (const Error& e) {
    throw Error(e.kind(), fmt::format("cannot create table '{}': {}", table.display(), e.what()));
  }
}

void SqliteWarehouse::delete_all_rows(const TableRef& table) {
  exec(db_, "DELETE FROM " + quote_table(table));
}

std::unique_ptr<RowInserter> SqliteWarehouse::inserter(const TableRef& table,
                                                       const std::vector<std::string>& columns) {
  std::string sql = "INSERT INTO " + quote_table(table) + " (";
  std::string params;
  for (size_t k = 0; k < columns.size(); ++k) {
    if (k) {
      sql += ", ";
      params += ", ";
    }
    sql += quote_identifier(columns[k]);
    params += "?";
  }
  sql += ") VALUES (" + params + ")";
  return std::make_unique<SqliteInserter>(db_, sql);
}

RawRatings SqliteWarehouse::read_ratings(const TableRef& table, const RatingColumns& c) {
  if (!table_exists(table)) {
    throw Error(
        ErrorKind::kNotFound,
        fmt::format("input table '{}' does not exist in the warehouse {}", table.display(), path_));
  }
  // One read snapshot for the count and the rows (declared first, so it ends after the
  // statements), released when the rows are read: never held across training.
  std::optional<ReadSnapshot> snapshot;
  if (sqlite3_get_autocommit(db_)) snapshot.emplace(db_);
  Statement count(db_, "SELECT count(*) FROM " + quote_table(table));
  count.step();
  const auto n = static_cast<size_t>(sqlite3_column_int64(count.get(), 0));

  const bool with_time = !c.timestamp.empty();
  Statement st(
      db_, fmt::format("SELECT {}, {}, {}{} FROM {}", quote_identifier(c.user),
                       quote_identifier(c.item), quote_identifier(c.rating),
                       with_time ? ", " + quote_identifier(c.timestamp) : "", quote_table(table)));
  RawRatings out;
  out.reserve(n);
  if (with_time) out.timestamps.reserve(n);
  size_t row = 0;
  while (st.step()) {
    ++row;
    int64_t user, item;
    double rating;
    auto bad = [&](const std::string& column, int col, const char* expected) {
      return Error(ErrorKind::kInput,
                   fmt::format("table '{}', row {}: column {} is {}, expected {}", table.display(),
                               row, column, describe(st.get(), col), expected));
    };
    if (!id_value(st.get(), 0, user)) throw bad(c.user, 0, "an integer id");
    if (!id_value(st.get(), 1, item)) throw bad(c.item, 1, "an integer id");
    if (!numeric_value(st.get(), 2, rating)) throw bad(c.rating, 2, "a number");
    out.push_back(user, item, static_cast<float>(rating));
    if (with_time) {
      double time;
      if (!numeric_value(st.get(), 3, time) || !(std::fabs(time) < 9e18))
        throw bad(c.timestamp, 3, "a number (a timestamp)");
      out.timestamps.push_back(static_cast<int64_t>(time));
    }
  }
  return out;
}

ResultSet SqliteWarehouse::query(std::string_view sql) {
  Statement st(db_, sql);
  ResultSet rs;
  const int ncol = sqlite3_column_count(st.get());
  for (int k = 0; k < ncol; ++k) rs.columns.emplace_back(sqlite3_column_name(st.get(), k));
  while (st.step()) {
    std::vector<Value> row;
    row.reserve(static_cast<size_t>(ncol));
    for (int k = 0; k < ncol; ++k) row.push_back(column_value(st.get(), k));
    rs.rows.push_back(std::move(row));
  }
  return rs;
}

std::vector<TableSummary> SqliteWarehouse::tables() {
  std::vector<TableSummary> out;
  {
    Statement st(db_,
                 "SELECT name, type FROM sqlite_schema WHERE type IN ('table','view') AND name "
                 "NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_reco\\_%' ESCAPE "
                 "'\\' ORDER BY name COLLATE NOCASE");
    while (st.step()) {
      TableSummary t;
      t.name = reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 0));
      t.view = std::string_view(reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 1))) ==
               "view";
      out.push_back(std::move(t));
    }
  }
  for (auto& t : out) {
    const TableRef ref{std::nullopt, t.name};
    t.columns = table_columns(ref);
    if (t.view) continue;
    Statement count(db_, fmt::format("SELECT count(*) FROM {}", quote_identifier(t.name)));
    if (count.step()) t.rows = sqlite3_column_int64(count.get(), 0);
  }
  return out;
}

namespace {

const char* action_name(int action) {
  switch (action) {
    case SQLITE_INSERT:
      return "INSERT";
    case SQLITE_UPDATE:
      return "UPDATE";
    case SQLITE_DELETE:
      return "DELETE";
    case SQLITE_PRAGMA:
      return "PRAGMA";
    case SQLITE_ATTACH:
      return "ATTACH";
    case SQLITE_DETACH:
      return "DETACH";
    case SQLITE_TRANSACTION:
      return "a transaction statement";
    case SQLITE_SAVEPOINT:
      return "SAVEPOINT";
    case SQLITE_ALTER_TABLE:
      return "ALTER TABLE";
    case SQLITE_REINDEX:
      return "REINDEX";
    case SQLITE_ANALYZE:
      return "ANALYZE";
    default:
      return "a statement that changes the schema (CREATE, DROP)";
  }
}

// The console's SQL box: only reading is authorized, and a query stops at its deadline.
struct ReadOnlyGuard {
  std::string refused;  // the first action refused
  std::chrono::steady_clock::time_point deadline;
  bool timed_out = false;

  static int authorize(void* self, int action, const char*, const char*, const char*, const char*) {
    switch (action) {
      case SQLITE_SELECT:
      case SQLITE_READ:
      case SQLITE_FUNCTION:
      case SQLITE_RECURSIVE:
        return SQLITE_OK;
      default: {
        auto* g = static_cast<ReadOnlyGuard*>(self);
        if (g->refused.empty()) g->refused = action_name(action);
        return SQLITE_DENY;
      }
    }
  }
  static int progress(void* self) {
    auto* g = static_cast<ReadOnlyGuard*>(self);
    if (std::chrono::steady_clock::now() < g->deadline) return 0;
    g->timed_out = true;
    return 1;
  }
};

}  // namespace

LimitedResult SqliteWarehouse::read_only_query(std::string_view sql, const QueryLimits& limits) {
  // A separate read-only connection for a database in a file; the memory database only has this
  // one, which the authorizer guards for the duration.
  sqlite3* db = db_;
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> own(nullptr, &sqlite3_close_v2);
  if (is_file_database(path_)) {
    std::string message;
    if (try_open(path_, SQLITE_OPEN_READONLY, &db, message, false) != SQLITE_OK) {
      throw Error(ErrorKind::kIo,
                  fmt::format("cannot open warehouse {} for reading: {}", path_, message));
    }
    own.reset(db);
  }
  ReadOnlyGuard guard;
  guard.deadline = std::chrono::steady_clock::now() +
                   std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                       std::chrono::duration<double>(limits.max_seconds));
  const int old_length = sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 1 << 20);
  sqlite3_set_authorizer(db, &ReadOnlyGuard::authorize, &guard);
  sqlite3_progress_handler(db, 1000, &ReadOnlyGuard::progress, &guard);
  struct Restore {
    sqlite3* db;
    int length;
    ~Restore() {
      sqlite3_set_authorizer(db, nullptr, nullptr);
      sqlite3_progress_handler(db, 0, nullptr, nullptr);
      sqlite3_limit(db, SQLITE_LIMIT_LENGTH, length);
    }
  } restore{db, old_length};

  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, &tail);
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, &sqlite3_finalize);
  if (!guard.refused.empty()) {
    throw Error(ErrorKind::kUsage,
                fmt::format("this query box only reads: {} is not allowed", guard.refused));
  }
  if (rc != SQLITE_OK) throw Error(ErrorKind::kInput, sqlite3_errmsg(db));
  if (!stmt) throw Error(ErrorKind::kUsage, "no SQL statement given");
  if (tail && !only_blank_or_comments(std::string_view(tail, sql.data() + sql.size() - tail))) {
    throw Error(ErrorKind::kUsage, "one statement at a time, please");
  }
  if (!sqlite3_stmt_readonly(stmt.get())) {
    throw Error(ErrorKind::kUsage, "this query box only reads: the statement would write");
  }

  LimitedResult out;
  const int ncol = sqlite3_column_count(stmt.get());
  for (int k = 0; k < ncol; ++k) out.columns.emplace_back(sqlite3_column_name(stmt.get(), k));
  size_t bytes = 0;
  for (;;) {
    const int step = sqlite3_step(stmt.get());
    if (step == SQLITE_DONE) break;
    if (step != SQLITE_ROW) {
      if (guard.timed_out) {
        throw Error(ErrorKind::kInput,
                    fmt::format("the query was stopped after {} s: narrow it", limits.max_seconds));
      }
      throw Error(Statement::classify(step), sqlite3_errmsg(db));
    }
    if (out.rows.size() == limits.max_rows || bytes > limits.max_bytes) {
      out.truncated = true;
      break;
    }
    std::vector<Value> row;
    row.reserve(static_cast<size_t>(ncol));
    for (int k = 0; k < ncol; ++k) {
      row.push_back(column_value(stmt.get(), k));
      bytes += 8 + static_cast<size_t>(sqlite3_column_bytes(stmt.get(), k));
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

void SqliteWarehouse::execute(std::string_view sql) {
  exec(db_, std::string(sql));
}

}  // namespace reco::storage
