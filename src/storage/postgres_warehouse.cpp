#include "storage/postgres_warehouse.h"

#include <libpq-fe.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "core/error.h"
#include "storage/sql_text.h"

namespace reco::storage {

// ---------------------------------------------------------------------------------------------
// Connection strings

namespace {

using Options = std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)>;

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && strncasecmp(s.data(), prefix.data(), prefix.size()) == 0;
}

bool is_uri(std::string_view db) {
  return starts_with_nocase(db, "postgresql://") || starts_with_nocase(db, "postgres://");
}

// The keyword of a keyword string's first "key=value" (spaces around '=' allowed), or "".
std::string first_key(std::string_view db) {
  size_t i = 0;
  while (i < db.size() && std::isspace(static_cast<unsigned char>(db[i]))) ++i;
  const size_t start = i;
  while (i < db.size() && (std::isalnum(static_cast<unsigned char>(db[i])) || db[i] == '_')) ++i;
  const std::string key(db.substr(start, i - start));
  while (i < db.size() && db[i] == ' ') ++i;
  return i < db.size() && db[i] == '=' ? key : std::string();
}

const char* option_value(const PQconninfoOption* options, const char* key) {
  for (const auto* o = options; o && o->keyword; ++o) {
    if (std::strcmp(o->keyword, key) == 0) return o->val && *o->val ? o->val : nullptr;
  }
  return nullptr;
}

std::string host_port_db(const char* host, const char* port, const char* db) {
  std::string h = host && *host ? host : "localhost";
  if (h.front() == '/') h = "localhost";  // a socket directory: the local server
  return fmt::format("postgresql://{}:{}/{}", h, port && *port ? port : "5432",
                     db && *db ? db : "?");
}

}  // namespace

bool is_postgres_location(std::string_view db) {
  if (is_uri(db)) return true;
  const std::string key = first_key(db);
  if (key.empty()) return false;
  Options defaults(PQconndefaults(), &PQconninfoFree);
  for (const auto* o = defaults.get(); o && o->keyword; ++o) {
    if (key == o->keyword) return true;
  }
  return false;
}

PostgresTarget parse_postgres_location(const std::string& db) {
  char* err = nullptr;
  Options parsed(PQconninfoParse(db.c_str(), &err), &PQconninfoFree);
  if (!parsed) {
    // libpq's message may quote the text; it is the user's own and holds no password we accept.
    std::string why = err ? err : "out of memory";
    PQfreemem(err);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    throw Error(ErrorKind::kUsage, fmt::format("invalid PostgreSQL connection string: {}", why));
  }
  for (const char* secret : {"password", "sslpassword"}) {
    if (option_value(parsed.get(), secret)) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("a {} in --db / RECO_DB is not accepted (it would show in process "
                              "lists, shell history and job records): leave it out and give it "
                              "to libpq through PGPASSWORD, ~/.pgpass or a service file",
                              secret));
    }
  }
  // What libpq will use for what the string leaves out: PGHOST, PGPORT, PGDATABASE, the user.
  Options defaults(PQconndefaults(), &PQconninfoFree);
  auto value = [&](const char* key) {
    const char* v = option_value(parsed.get(), key);
    return v ? v : option_value(defaults.get(), key);
  };
  const char* dbname = value("dbname");
  if (!dbname) dbname = value("user");  // libpq's default database is the user's name
  return {db,
          host_port_db(value("host") ? value("host") : value("hostaddr"), value("port"), dbname)};
}

void append_copy_text(std::string& out, std::string_view text) {
  for (const char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\0':
        throw Error(ErrorKind::kInput,
                    "a text value holds a NUL byte, which PostgreSQL text cannot store");
      default:
        out += c;
    }
  }
}

std::string decode_copy_text(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '\\' || i + 1 == field.size()) {
      out += field[i];
      continue;
    }
    const char c = field[++i];
    switch (c) {
      case 't':
        out += '\t';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'v':
        out += '\v';
        break;
      default:
        if (c >= '0' && c <= '7') {  // \ooo (PostgreSQL writes these for other controls)
          int v = 0, n = 0;
          while (n < 3 && i < field.size() && field[i] >= '0' && field[i] <= '7') {
            v = v * 8 + (field[i++] - '0');
            ++n;
          }
          --i;
          out += static_cast<char>(v);
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string fold_identifier(std::string_view name) {
  if (!is_plain_identifier(name)) return std::string(name);
  std::string out(name);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Results and errors

struct PostgresWarehouse::Result {
  std::unique_ptr<PGresult, void (*)(PGresult*)> res{nullptr, &PQclear};
  PGresult* get() const { return res.get(); }
  int rows() const { return PQntuples(res.get()); }
  std::string text(int row, int col) const {
    return std::string(PQgetvalue(res.get(), row, col),
                       static_cast<size_t>(PQgetlength(res.get(), row, col)));
  }
  bool null(int row, int col) const { return PQgetisnull(res.get(), row, col) != 0; }
};

namespace {

ErrorKind kind_of_sqlstate(std::string_view state) {
  if (state.starts_with("08")) return ErrorKind::kIo;        // connection exceptions
  if (state.starts_with("53")) return ErrorKind::kIo;        // disk full, out of memory
  if (state.starts_with("58")) return ErrorKind::kIo;        // system errors
  if (state.starts_with("57P")) return ErrorKind::kIo;       // server shutting down, terminated
  if (state == "57014") return ErrorKind::kCancelled;        // query_canceled
  if (state.starts_with("40")) return ErrorKind::kConflict;  // serialization, deadlock
  if (state == "42P01" || state == "42883" || state == "3F000" || state == "3D000" ||
      state == "42703")
    return ErrorKind::kNotFound;  // table, function, schema, database, column
  if (state == "42P07" || state == "42501" || state == "25006") return ErrorKind::kConflict;
  return ErrorKind::kInput;
}

// A transaction or a SAVEPOINT. Destroying it without commit() rolls back, dropping a COPY in
// progress too.
class PgTransaction final : public Transaction {
 public:
  PgTransaction(PostgresWarehouse& w, PGconn* conn, uint64_t savepoint)
      : w_(w), conn_(conn), savepoint_(savepoint) {
    if (savepoint_ == 0) {
      w_.exec("BEGIN");
    } else {
      w_.exec(fmt::format("SAVEPOINT reco_tx_{}", savepoint_));
    }
  }
  ~PgTransaction() override {
    if (done_) return;
    w_.abandon_copy();
    if (PQstatus(conn_) != CONNECTION_OK) return;  // the server rolled back already
    const std::string sql =
        savepoint_ == 0 ? std::string("ROLLBACK")
                        : fmt::format("ROLLBACK TO reco_tx_{0}; RELEASE reco_tx_{0}", savepoint_);
    PQclear(PQexec(conn_, sql.c_str()));  // errors here cannot be reported
  }
  void commit() override {
    w_.end_copy();
    if (savepoint_ == 0) {
      // COMMIT of a transaction that failed answers ROLLBACK without an error: check.
      const auto r = w_.exec("COMMIT");
      done_ = true;
      if (std::strcmp(PQcmdStatus(r.get()), "COMMIT") != 0) {
        throw Error(
            ErrorKind::kInternal,
            fmt::format("the transaction on {} was rolled back, not committed", w_.location()));
      }
    } else {
      w_.exec(fmt::format("RELEASE reco_tx_{}", savepoint_));
      done_ = true;
    }
  }

 private:
  PostgresWarehouse& w_;
  PGconn* conn_;
  uint64_t savepoint_;  // 0: the outermost transaction
  bool done_ = false;
};

class PgInserter final : public RowInserter {
 public:
  PgInserter(PostgresWarehouse& w, std::string sql, size_t width, uint64_t id)
      : w_(w), sql_(std::move(sql)), width_(width), id_(id) {}
  void insert(const std::vector<Value>& row) override { w_.put_copy_row(id_, sql_, width_, row); }

 private:
  PostgresWarehouse& w_;
  std::string sql_;
  size_t width_;
  uint64_t id_;
};

void append_copy_value(std::string& out, const Value& v) {
  if (std::holds_alternative<std::monostate>(v)) {
    out += "\\N";
  } else if (const auto* i = std::get_if<int64_t>(&v)) {
    char buf[24];
    out.append(buf, static_cast<size_t>(std::to_chars(buf, buf + sizeof buf, *i).ptr - buf));
  } else if (const auto* d = std::get_if<double>(&v)) {
    if (std::isnan(*d)) {
      out += "NaN";
    } else if (std::isinf(*d)) {
      out += *d > 0 ? "Infinity" : "-Infinity";
    } else {
      char buf[32];
      out.append(buf, static_cast<size_t>(std::to_chars(buf, buf + sizeof buf, *d).ptr - buf));
    }
  } else {
    append_copy_text(out, std::get<std::string>(v));
  }
}

constexpr size_t kCopyChunk = 1 << 20;

const char* pg_type(ColumnType type) {
  switch (type) {
    case ColumnType::kInteger:
      return "bigint";
    case ColumnType::kReal:
      return "double precision";
    case ColumnType::kText:
      return "text";
    case ColumnType::kJson:
      return "jsonb";
  }
  return "text";
}

// Type OIDs (pg_type.dat), for typing query results.
constexpr Oid kBool = 16, kInt8 = 20, kInt2 = 21, kInt4 = 23, kOid = 26, kFloat4 = 700,
              kFloat8 = 701, kNumeric = 1700, kJson = 114, kJsonb = 3802;

Value typed_value(const PGresult* res, int row, int col) {
  if (PQgetisnull(res, row, col)) return std::monostate{};
  const char* text = PQgetvalue(res, row, col);
  const auto size = static_cast<size_t>(PQgetlength(res, row, col));
  switch (PQftype(res, col)) {
    case kInt2:
    case kInt4:
    case kInt8:
    case kOid: {
      int64_t v = 0;
      const auto [p, ec] = std::from_chars(text, text + size, v);
      if (ec == std::errc() && p == text + size) return v;
      break;
    }
    case kFloat4:
    case kFloat8:
    case kNumeric: {
      // strtod reads NaN and Infinity as PostgreSQL writes them; numeric beyond double rounds.
      char* end = nullptr;
      const double v = std::strtod(text, &end);
      if (end == text + size) return v;
      break;
    }
    case kBool:
      return static_cast<int64_t>(text[0] == 't' ? 1 : 0);
    default:
      break;
  }
  return std::string(text, size);
}

std::vector<bool> json_flags(const PGresult* res) {
  std::vector<bool> flags;
  for (int c = 0; c < PQnfields(res); ++c) {
    const Oid t = PQftype(res, c);
    flags.push_back(t == kJson || t == kJsonb);
  }
  return flags;
}

ResultSet result_set(const PGresult* res) {
  ResultSet rs;
  const int ncol = PQnfields(res);
  for (int c = 0; c < ncol; ++c) rs.columns.emplace_back(PQfname(res, c));
  rs.json_columns = json_flags(res);
  const int n = PQntuples(res);
  rs.rows.reserve(static_cast<size_t>(n));
  for (int r = 0; r < n; ++r) {
    std::vector<Value> row;
    row.reserve(static_cast<size_t>(ncol));
    for (int c = 0; c < ncol; ++c) row.push_back(typed_value(res, r, c));
    rs.rows.push_back(std::move(row));
  }
  return rs;
}

}  // namespace

Error PostgresWarehouse::error_of(const PGresult* res, std::string_view what) const {
  if (PQstatus(conn_) != CONNECTION_OK) return connection_error(what);
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message = primary ? primary : PQerrorMessage(conn_);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  if (const char* detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : nullptr) {
    message += fmt::format(" ({})", detail);
  }
  if (const char* hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : nullptr) {
    message += fmt::format("; hint: {}", hint);
  }
  if (const char* context = res ? PQresultErrorField(res, PG_DIAG_CONTEXT) : nullptr) {
    // COPY names the line and column of a bad value here.
    if (std::string_view(context).starts_with("COPY")) message += fmt::format(" [{}]", context);
  }
  const ErrorKind kind = state ? kind_of_sqlstate(state) : ErrorKind::kInput;
  if (kind == ErrorKind::kIo && (!state || !std::string_view(state).starts_with("53"))) {
    return Error(kind, fmt::format("{}: PostgreSQL at {}: {}", what, location_, message));
  }
  return Error(kind, what.empty() ? message : fmt::format("{}: {}", what, message));
}

Error PostgresWarehouse::connection_error(std::string_view what) const {
  std::string message = PQerrorMessage(conn_);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return Error(ErrorKind::kIo,
               fmt::format("{}lost the connection to PostgreSQL at {}: {}; nothing of this "
                           "transaction was committed",
                           what.empty() ? "" : fmt::format("{}: ", what), location_,
                           message.empty() ? "the server closed it" : message));
}

PostgresWarehouse::Result PostgresWarehouse::exec(const std::string& sql) {
  end_copy();
  Result r;
  r.res.reset(PQexec(conn_, sql.c_str()));
  const auto status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) throw error_of(r.get(), "");
  return r;
}

// ---------------------------------------------------------------------------------------------
// Connecting

PostgresWarehouse::PostgresWarehouse(PGconn* conn, std::string conninfo, std::string location)
    : conn_(conn), conninfo_(std::move(conninfo)), location_(std::move(location)) {
  cancel_ = PQgetCancel(conn_);
}

PostgresWarehouse::~PostgresWarehouse() {
  abandon_copy();
  if (cancel_) PQfreeCancel(cancel_);
  PQfinish(conn_);
}

namespace {

// libpq's multi-line messages ("...failed: Connection refused\n\tIs the server running...") on
// one line.
std::string one_line(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\n' || c == '\t') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// Connects; Error naming the server and the database (never a password) on failure.
PGconn* connect(const PostgresTarget& target) {
  // application_name shows reco in pg_stat_activity; a fallback, so the string's own wins.
  const char* keys[] = {"dbname", "fallback_application_name", "client_encoding", nullptr};
  const char* values[] = {target.conninfo.c_str(), "reco", "UTF8", nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, 1);
  if (!conn) throw Error(ErrorKind::kIo, "cannot connect to PostgreSQL: out of memory");
  if (PQstatus(conn) == CONNECTION_OK) return conn;
  std::string why = one_line(PQerrorMessage(conn));
  const bool no_password = PQconnectionNeedsPassword(conn) != 0;
  const std::string where =
      host_port_db(PQhost(conn), PQport(conn), PQdb(conn));  // what libpq actually tried
  PQfinish(conn);
  ErrorKind kind = ErrorKind::kIo;
  std::string advice;
  if (no_password) {
    kind = ErrorKind::kUsage;
    advice = "; reco takes the password from PGPASSWORD, ~/.pgpass or a service file";
  } else if (why.find("password authentication failed") != std::string::npos) {
    kind = ErrorKind::kUsage;
    advice = " (check PGPASSWORD, ~/.pgpass or the service file)";
  } else if (why.find("does not exist") != std::string::npos) {
    kind = ErrorKind::kNotFound;
  }
  throw Error(kind, fmt::format("cannot connect to PostgreSQL at {}: {}{}", where, why, advice));
}

}  // namespace

std::unique_ptr<PostgresWarehouse> PostgresWarehouse::open(const std::string& db) {
  PostgresTarget target = parse_postgres_location(db);
  PGconn* conn = connect(target);
  std::unique_ptr<PostgresWarehouse> w(new PostgresWarehouse(
      conn, target.conninfo, host_port_db(PQhost(conn), PQport(conn), PQdb(conn))));
  // Notices (NOTICE: table does not exist, skipping) are not the user's business here.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  w->exec("SET client_min_messages = warning");
  w->database_ = PQdb(conn);
  return w;
}

std::string PostgresWarehouse::server_version() const {
  const int v = PQserverVersion(conn_);
  return fmt::format("{}.{}", v / 10000, v % 10000);
}

std::string PostgresWarehouse::quote(std::string_view name) const {
  char* q = PQescapeIdentifier(conn_, name.data(), name.size());
  if (!q) {
    throw Error(ErrorKind::kInput,
                fmt::format("cannot quote the name '{}': {}", name, PQerrorMessage(conn_)));
  }
  std::string out(q);
  PQfreemem(q);
  return out;
}

void PostgresWarehouse::cancel_running() noexcept {
  char buf[256];
  if (cancel_) PQcancel(cancel_, buf, sizeof buf);
}

// ---------------------------------------------------------------------------------------------
// COPY ... FROM STDIN

void PostgresWarehouse::put_copy_row(uint64_t copy_id, const std::string& copy_sql, size_t width,
                                     const std::vector<Value>& row) {
  if (row.size() != width) {
    throw Error(ErrorKind::kInternal,
                fmt::format("{} values for {} columns in a row to insert", row.size(), width));
  }
  if (copy_id_ != copy_id) {  // another statement ended this inserter's COPY: start another
    end_copy();
    Result r;
    r.res.reset(PQexec(conn_, copy_sql.c_str()));
    if (PQresultStatus(r.get()) != PGRES_COPY_IN) throw error_of(r.get(), "");
    copy_id_ = copy_id;
  }
  const size_t mark = copy_buffer_.size();
  try {
    for (size_t k = 0; k < row.size(); ++k) {
      if (k) copy_buffer_ += '\t';
      append_copy_value(copy_buffer_, row[k]);
    }
  } catch (...) {
    copy_buffer_.resize(mark);
    throw;
  }
  copy_buffer_ += '\n';
  if (copy_buffer_.size() >= kCopyChunk) {
    if (PQputCopyData(conn_, copy_buffer_.data(), static_cast<int>(copy_buffer_.size())) != 1) {
      copy_id_ = 0;
      copy_buffer_.clear();
      throw connection_error("");
    }
    copy_buffer_.clear();
  }
}

void PostgresWarehouse::end_copy() {
  if (copy_id_ == 0) return;
  copy_id_ = 0;
  std::string buffer = std::move(copy_buffer_);
  copy_buffer_.clear();
  const bool sent =
      buffer.empty() || PQputCopyData(conn_, buffer.data(), static_cast<int>(buffer.size())) == 1;
  if (!sent || PQputCopyEnd(conn_, nullptr) != 1) throw connection_error("");
  std::optional<Error> failure;
  while (PGresult* res = PQgetResult(conn_)) {
    if (PQresultStatus(res) != PGRES_COMMAND_OK && !failure) failure = error_of(res, "");
    PQclear(res);
  }
  if (failure) throw *failure;
}

void PostgresWarehouse::abandon_copy() noexcept {
  if (copy_id_ == 0) return;
  copy_id_ = 0;
  copy_buffer_.clear();
  if (PQputCopyEnd(conn_, "abandoned by reco") == 1) {
    while (PGresult* res = PQgetResult(conn_)) PQclear(res);
  }
}

// ---------------------------------------------------------------------------------------------
// Tables

struct PostgresWarehouse::Resolved {
  std::string schema;  // as stored; empty: not found, and no schema was named
  std::string name;    // as stored, or the folded name for a table to create
  bool exists = false;
};

PostgresWarehouse::Resolved PostgresWarehouse::resolve(const TableRef& table) {
  if (table.database && fold_identifier(*table.database) != database_) {
    throw Error(
        ErrorKind::kUsage,
        fmt::format("table name '{}.{}' names the database '{}', but reco is connected "
                    "to the database '{}' ({}): name that database in --db, or leave "
                    "the database part out",
                    *table.database, table.display(), *table.database, database_, location_));
  }
  end_copy();
  std::string schema;
  if (table.schema) {
    // The schema: exact, else differing in case only.
    const char* params[] = {table.schema->c_str()};
    Result s;
    s.res.reset(PQexecParams(conn_,
                             "SELECT nspname FROM pg_namespace WHERE lower(nspname) = lower($1) "
                             "ORDER BY nspname = $1 DESC LIMIT 1",
                             1, nullptr, params, nullptr, nullptr, 0));
    if (PQresultStatus(s.get()) != PGRES_TUPLES_OK) throw error_of(s.get(), "");
    if (s.rows() == 0) {
      const auto known = exec(
          "SELECT string_agg(nspname, ', ' ORDER BY nspname) FROM pg_namespace WHERE nspname "
          "NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'");
      throw Error(ErrorKind::kNotFound,
                  fmt::format("unknown schema '{}' in table name '{}' (this warehouse has: {})",
                              *table.schema, table.display(), known.text(0, 0)));
    }
    schema = s.text(0, 0);
  }
  const char* params[] = {table.table.c_str(), table.schema ? schema.c_str() : nullptr};
  Result r;
  r.res.reset(PQexecParams(
      conn_,
      "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
      "c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND lower(c.relname) = "
      "lower($1) AND CASE WHEN $2::text IS NULL THEN n.nspname = ANY (current_schemas(false)) "
      "ELSE n.nspname = $2 END ORDER BY c.relname = $1 DESC, array_position(current_schemas("
      "false), n.nspname::text) LIMIT 1",
      2, nullptr, params, nullptr, nullptr, 0));
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) throw error_of(r.get(), "");
  if (r.rows() == 1) return {r.text(0, 0), r.text(0, 1), true};
  return {schema, fold_identifier(table.table), false};
}

std::string PostgresWarehouse::qualified(const Resolved& r) const {
  return r.schema.empty() ? quote(r.name) : quote(r.schema) + "." + quote(r.name);
}

std::unique_ptr<Transaction> PostgresWarehouse::begin() {
  end_copy();
  const auto status = PQtransactionStatus(conn_);
  if (status == PQTRANS_UNKNOWN) throw connection_error("");
  return std::make_unique<PgTransaction>(*this, conn_, status == PQTRANS_IDLE ? 0 : ++savepoints_);
}

bool PostgresWarehouse::table_exists(const TableRef& table) {
  return resolve(table).exists;
}

std::string PostgresWarehouse::sql_name(const TableRef& table) {
  return qualified(resolve(table));
}

std::vector<ColumnInfo> PostgresWarehouse::table_columns(const TableRef& table) {
  const Resolved r = resolve(table);
  if (!r.exists) {
    throw Error(ErrorKind::kNotFound, fmt::format("table '{}' does not exist in the warehouse {}",
                                                  table.display(), location_));
  }
  const std::string name = qualified(r);
  const char* params[] = {name.c_str()};
  Result res;
  res.res.reset(PQexecParams(conn_,
                             "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                             "WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped "
                             "ORDER BY attnum",
                             1, nullptr, params, nullptr, nullptr, 0));
  if (PQresultStatus(res.get()) != PGRES_TUPLES_OK) throw error_of(res.get(), "");
  std::vector<ColumnInfo> cols;
  for (int k = 0; k < res.rows(); ++k) cols.push_back({res.text(k, 0), res.text(k, 1)});
  return cols;
}

void PostgresWarehouse::create_table(const TableRef& table, const std::vector<ColumnDef>& columns,
                                     bool replace) {
  Resolved r = resolve(table);
  if (r.exists && replace) {
    exec("DROP TABLE " + qualified(r));
    r.name = fold_identifier(table.table);
  }
  std::string sql = "CREATE TABLE " + qualified(r) + " (";
  for (size_t k = 0; k < columns.size(); ++k) {
    if (k) sql += ", ";
    sql += quote(fold_identifier(columns[k].name)) + " " + pg_type(columns[k].type);
  }
  sql += ")";
  try {
    exec(sql);
  } catch (const Error& e) {
    throw Error(e.kind(), fmt::format("cannot create table '{}': {}", table.display(), e.what()));
  }
}

void PostgresWarehouse::delete_all_rows(const TableRef& table) {
  const Resolved r = resolve(table);
  if (!r.exists) {
    throw Error(ErrorKind::kNotFound, fmt::format("table '{}' does not exist in the warehouse {}",
                                                  table.display(), location_));
  }
  // DELETE, not TRUNCATE: TRUNCATE is not MVCC-safe, so a reader in another transaction would
  // see the table empty instead of its old rows.
  exec("DELETE FROM " + qualified(r));
}

std::unique_ptr<RowInserter> PostgresWarehouse::inserter(const TableRef& table,
                                                         const std::vector<std::string>& columns) {
  const auto declared = table_columns(table);
  const std::string target = qualified(resolve(table));
  std::string sql = "COPY " + target + " (";
  for (size_t k = 0; k < columns.size(); ++k) {
    // The column as declared: exact, else differing in case only.
    const ColumnInfo* match = nullptr;
    for (const auto& c : declared) {
      if (c.name == columns[k]) match = &c;
    }
    for (const auto& c : declared) {
      if (!match && strcasecmp(c.name.c_str(), columns[k].c_str()) == 0) match = &c;
    }
    if (!match) {
      throw Error(ErrorKind::kNotFound,
                  fmt::format("table '{}' has no column '{}'", table.display(), columns[k]));
    }
    sql += (k ? ", " : "") + quote(match->name);
  }
  sql += ") FROM STDIN";
  return std::make_unique<PgInserter>(*this, sql, columns.size(), next_copy_id_++);
}

// ---------------------------------------------------------------------------------------------
// Reading ratings: COPY (SELECT ...) TO STDOUT, one consistent snapshot.

namespace {

std::string describe_field(std::string_view field) {
  return field == "\\N" ? std::string("NULL") : fmt::format("'{}'", decode_copy_text(field));
}

bool copy_number(std::string_view field, double& out) {
  if (field.find('\\') != std::string_view::npos) return false;  // escapes: not a number
  return parse_number_text(field, out);
}

bool copy_id(std::string_view field, int64_t& out) {
  const auto [p, ec] = std::from_chars(field.data(), field.data() + field.size(), out);
  if (ec == std::errc() && p == field.data() + field.size() && !field.empty()) return true;
  double d;
  return copy_number(field, d) && integral_id(d, out);
}

}  // namespace

RawRatings PostgresWarehouse::read_ratings(const TableRef& table, const RatingColumns& c) {
  const Resolved r = resolve(table);
  if (!r.exists) {
    throw Error(ErrorKind::kNotFound,
                fmt::format("input table '{}' does not exist in the warehouse {}", table.display(),
                            location_));
  }
  // A timestamp column: epoch seconds as they are, or those of a timestamp/date column.
  std::string time_sql;
  if (!c.timestamp.empty()) {
    time_sql = ", " + quote(c.timestamp);
    for (const auto& column : table_columns(table)) {
      std::string type = column.declared_type;
      for (char& ch : type) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (column.name == c.timestamp &&
          (type.find("timestamp") != std::string::npos || type == "date")) {
        time_sql = fmt::format(", extract(epoch from {})", quote(c.timestamp));
      }
    }
  }
  const std::string sql = fmt::format("COPY (SELECT {}, {}, {}{} FROM {}) TO STDOUT", quote(c.user),
                                      quote(c.item), quote(c.rating), time_sql, qualified(r));
  {
    Result start;
    start.res.reset(PQexec(conn_, sql.c_str()));
    if (PQresultStatus(start.get()) != PGRES_COPY_OUT) throw error_of(start.get(), "");
  }
  RawRatings out;
  size_t row = 0;
  std::optional<Error> failure;
  for (;;) {
    char* line = nullptr;
    const int n = PQgetCopyData(conn_, &line, 0);
    if (n == -1) break;  // done
    if (n < 0) throw connection_error(fmt::format("reading table '{}'", table.display()));
    std::unique_ptr<char, void (*)(void*)> own(line, &PQfreemem);
    if (failure) continue;  // drain after an error (the COPY cannot stop half-way cleanly)
    ++row;
    std::string_view text(line, static_cast<size_t>(n));
    if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    const size_t t1 = text.find('\t');
    const size_t t2 = t1 == std::string_view::npos ? t1 : text.find('\t', t1 + 1);
    const size_t t3 = t2 == std::string_view::npos || time_sql.empty() ? std::string_view::npos
                                                                       : text.find('\t', t2 + 1);
    if (t2 == std::string_view::npos || (!time_sql.empty() && t3 == std::string_view::npos)) {
      throw Error(ErrorKind::kInternal, fmt::format("COPY sent a row without {} fields: '{}'",
                                                    time_sql.empty() ? 3 : 4, text));
    }
    const std::string_view f[4] = {
        text.substr(0, t1), text.substr(t1 + 1, t2 - t1 - 1),
        text.substr(t2 + 1, t3 == std::string_view::npos ? std::string_view::npos : t3 - t2 - 1),
        t3 == std::string_view::npos ? std::string_view() : text.substr(t3 + 1)};
    auto bad = [&](const std::string& column, int k, const char* expected) {
      return Error(ErrorKind::kInput,
                   fmt::format("table '{}', row {}: column {} is {}, expected {}", table.display(),
                               row, column, describe_field(f[k]), expected));
    };
    int64_t user, item;
    double rating;
    if (!copy_id(f[0], user)) {
      failure = bad(c.user, 0, "an integer id");
    } else if (!copy_id(f[1], item)) {
      failure = bad(c.item, 1, "an integer id");
    } else if (!copy_number(f[2], rating)) {
      failure = bad(c.rating, 2, "a number");
    } else if (double time = 0;
               !time_sql.empty() && (!copy_number(f[3], time) || !(std::fabs(time) < 9e18))) {
      failure = bad(c.timestamp, 3, "a number (a timestamp)");
    } else {
      out.push_back(user, item, static_cast<float>(rating));
      if (!time_sql.empty()) out.timestamps.push_back(static_cast<int64_t>(time));
    }
    if (failure && cancel_) {  // stop the server sending the rest
      char buf[256];
      PQcancel(cancel_, buf, sizeof buf);
    }
  }
  std::optional<Error> server_error;
  while (PGresult* res = PQgetResult(conn_)) {
    if (PQresultStatus(res) != PGRES_COMMAND_OK && !server_error) {
      server_error = error_of(res, fmt::format("reading table '{}'", table.display()));
    }
    PQclear(res);
  }
  if (failure) throw *failure;
  if (server_error) throw *server_error;
  return out;
}

std::vector<TableSummary> PostgresWarehouse::tables() {
  const auto list = exec(
      "SELECT n.nspname, c.relname, c.relkind = 'v', n.nspname = current_schema() FROM pg_class "
      "c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', "
      "'f') AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' AND c.relname "
      "NOT LIKE '\\_reco\\_%' AND NOT c.relispartition ORDER BY n.nspname <> current_schema(), "
      "lower(n.nspname), lower(c.relname)");
  std::vector<TableSummary> out;
  for (int k = 0; k < list.rows(); ++k) {
    const std::string schema = list.text(k, 0), name = list.text(k, 1);
    const bool in_default = list.text(k, 3) == "t";
    TableRef ref{std::nullopt, name};
    if (!in_default) ref.schema = schema;
    auto part = [](const std::string& s) {
      return is_plain_identifier(s) && s == fold_identifier(s) ? s : quote_identifier(s);
    };
    TableSummary t;
    t.name = in_default ? part(name) : part(schema) + "." + part(name);
    t.view = list.text(k, 2) == "t";
    t.columns = table_columns(ref);
    if (!t.view) {
      const auto count = exec("SELECT count(*) FROM " + quote(schema) + "." + quote(name));
      t.rows = std::stoll(count.text(0, 0));
    }
    out.push_back(std::move(t));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// SQL the user wrote

ResultSet PostgresWarehouse::query(std::string_view sql) {
  end_copy();
  const std::string text(sql);
  // The extended protocol: one statement only, as SQLite's query() prepares one.
  Result r;
  r.res.reset(PQexecParams(conn_, text.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0));
  const auto status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) throw error_of(r.get(), "");
  return result_set(r.get());
}

void PostgresWarehouse::query_rows(std::string_view sql,
                                   const std::function<void(const ResultSet&)>& header,
                                   const std::function<void(const std::vector<Value>&)>& row) {
  end_copy();
  const std::string text(sql);
  if (!PQsendQueryParams(conn_, text.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) ||
      !PQsetSingleRowMode(conn_)) {
    throw connection_error("");
  }
  // Every result is read, even after an error (or a callback's exception), so the connection
  // is ready for the next statement.
  std::optional<Error> failure;
  std::exception_ptr thrown;
  bool started = false;
  while (PGresult* raw = PQgetResult(conn_)) {
    Result r;
    r.res.reset(raw);
    const auto status = PQresultStatus(raw);
    if (failure || thrown) continue;
    if (status == PGRES_SINGLE_TUPLE || status == PGRES_TUPLES_OK) {
      try {
        if (!started) {
          ResultSet head;
          for (int c = 0; c < PQnfields(raw); ++c) head.columns.emplace_back(PQfname(raw, c));
          head.json_columns = json_flags(raw);
          header(head);
          started = true;
        }
        std::vector<Value> values;
        for (int k = 0; k < r.rows(); ++k) {
          values.clear();
          for (int c = 0; c < PQnfields(raw); ++c) values.push_back(typed_value(raw, k, c));
          row(values);
        }
      } catch (...) {
        thrown = std::current_exception();
        cancel_running();
      }
    } else if (status != PGRES_COMMAND_OK) {
      failure = error_of(raw, "");
    }
  }
  if (thrown) std::rethrow_exception(thrown);
  if (failure) throw *failure;
  if (PQstatus(conn_) != CONNECTION_OK) throw connection_error("");
}

void PostgresWarehouse::execute(std::string_view sql) {
  exec(std::string(sql));
}

namespace {

// Statements the query box runs; anything else is refused before it reaches the server.
bool reads_only(const std::string& keyword) {
  return keyword == "SELECT" || keyword == "WITH" || keyword == "VALUES" || keyword == "TABLE" ||
         keyword == "SHOW" || keyword == "EXPLAIN";
}

}  // namespace

LimitedResult PostgresWarehouse::read_only_query(std::string_view sql, const QueryLimits& limits) {
  if (only_blank_or_comments(sql)) throw Error(ErrorKind::kUsage, "no SQL statement given");
  const size_t end = statement_end(sql);
  if (!only_blank_or_comments(sql.substr(end))) {
    throw Error(ErrorKind::kUsage, "one statement at a time, please");
  }
  const std::string keyword = first_keyword(sql);
  if (!reads_only(keyword)) {
    throw Error(ErrorKind::kUsage,
                fmt::format("this query box only reads: {} is not allowed",
                            keyword.empty() ? std::string("this statement") : keyword));
  }
  std::string statement(sql.substr(0, end));
  while (!statement.empty() &&
         (statement.back() == ';' || std::isspace(static_cast<unsigned char>(statement.back()))))
    statement.pop_back();
  end_copy();
  if (PQtransactionStatus(conn_) == PQTRANS_IDLE) return run_limited(conn_, statement, limits);
  // Inside a transaction of this connection: a connection of its own.
  PGconn* other = connect(parse_postgres_location(conninfo_));
  std::unique_ptr<PGconn, void (*)(PGconn*)> own(other, &PQfinish);
  return run_limited(other, statement, limits);
}

LimitedResult PostgresWarehouse::run_limited(PGconn* conn, std::string_view sql,
                                             const QueryLimits& limits) {
  auto run = [&](const std::string& text) {
    Result r;
    r.res.reset(PQexecParams(conn, text.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0));
    const auto status = PQresultStatus(r.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      const char* state = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
      if (state && std::string_view(state) == "57014") {
        throw Error(ErrorKind::kInput,
                    fmt::format("the query was stopped after {} s: narrow it", limits.max_seconds));
      }
      const char* primary = PQresultErrorField(r.get(), PG_DIAG_MESSAGE_PRIMARY);
      throw Error(state ? kind_of_sqlstate(state) : ErrorKind::kIo,
                  primary ? primary : PQerrorMessage(conn));
    }
    return r;
  };
  // Whatever happens, the transaction is rolled back: nothing the query did stays.
  struct Rollback {
    PGconn* conn;
    ~Rollback() { PQclear(PQexec(conn, "ROLLBACK")); }
  };
  run("BEGIN TRANSACTION READ ONLY");
  Rollback rollback{conn};
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(limits.max_seconds));
  run(fmt::format("SET LOCAL statement_timeout = {}",
                  std::max<int64_t>(1, std::llround(limits.max_seconds * 1000))));
  LimitedResult out;
  size_t bytes = 0;
  auto take = [&](const Result& r) {
    for (int k = 0; k < r.rows(); ++k) {
      if (out.rows.size() == limits.max_rows || bytes > limits.max_bytes) {
        out.truncated = true;
        return;
      }
      std::vector<Value> row;
      for (int c = 0; c < PQnfields(r.get()); ++c) {
        row.push_back(typed_value(r.get(), k, c));
        bytes += 8 + static_cast<size_t>(PQgetlength(r.get(), k, c));
      }
      out.rows.push_back(std::move(row));
    }
  };
  auto header = [&](const Result& r) {
    for (int c = 0; c < PQnfields(r.get()); ++c) out.columns.emplace_back(PQfname(r.get(), c));
    out.json_columns = json_flags(r.get());
  };
  const std::string keyword = first_keyword(sql);
  if (keyword != "SHOW" && keyword != "EXPLAIN") {  // a cursor fetches only what is shown
    run(fmt::format("DECLARE reco_box NO SCROLL CURSOR FOR {}", sql));
    bool first = true;
    for (;;) {
      const auto r = run("FETCH 200 FROM reco_box");
      if (first) header(r);
      first = false;
      take(r);
      if (out.truncated || r.rows() < 200) break;
      if (std::chrono::steady_clock::now() > deadline) {
        throw Error(ErrorKind::kInput,
                    fmt::format("the query was stopped after {} s: narrow it", limits.max_seconds));
      }
    }
  } else {
    const auto r = run(std::string(sql));
    header(r);
    take(r);
  }
  return out;
}

}  // namespace reco::storage
