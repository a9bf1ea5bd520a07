#include "data/csv_loader.h"

#include <cctype>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>

#include "core/error.h"
#include "core/faults.h"
#include "core/identifiers.h"
#include "core/stopwatch.h"
#include "data/csv.h"

namespace reco::data {
namespace {

std::string lowercase(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Only digits after an optional minus sign.
bool looks_integral(std::string_view s) {
  if (!s.empty() && s.front() == '-') s.remove_prefix(1);
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool has_leading_zero(std::string_view s) {
  if (!s.empty() && s.front() == '-') s.remove_prefix(1);
  return s.size() > 1 && s.front() == '0';
}

std::vector<std::string> column_names(const CsvReader& reader, size_t fields) {
  std::vector<std::string> names;
  if (!reader.options().header) {
    for (size_t k = 0; k < fields; ++k) names.push_back(fmt::format("column{}", k + 1));
    return names;
  }
  std::unordered_map<std::string, size_t> seen;  // lowercased: SQL names ignore case
  for (size_t k = 0; k < reader.header().size(); ++k) {
    const std::string& name = reader.header()[k];
    if (name.empty()) {
      throw reader.error_at(reader.header_position(k),
                            fmt::format("column {} of the header has no name", k + 1));
    }
    if (!is_plain_identifier(name)) {
      throw reader.error_at(
          reader.header_position(k),
          fmt::format("column name '{}' is not a plain identifier (letters, digits, _ and $, not "
                      "starting with a digit); rename it in the header",
                      name));
    }
    const auto [it, fresh] = seen.emplace(lowercase(name), k);
    if (!fresh) {
      throw reader.error_at(reader.header_position(k),
                            fmt::format("duplicate column name '{}' (column {} is '{}'; names "
                                        "are compared ignoring case)",
                                        name, it->second + 1, reader.header()[it->second]));
    }
    names.push_back(name);
  }
  return names;
}

}  // namespace

int64_t LoadReport::total_rows() const {
  int64_t n = 0;
  for (const auto& t : tables) n += t.rows;
  return n;
}

void ColumnTypeInference::observe(std::string_view value) {
  if (value.empty() || any_text_) return;
  if (looks_integral(value)) {
    if (has_leading_zero(value) || !parse_int64(value)) {
      any_text_ = true;
    } else {
      any_integer_ = true;
    }
  } else if (parse_finite_double(value)) {
    any_real_ = true;
  } else {
    any_text_ = true;
  }
}

storage::ColumnType ColumnTypeInference::type() const {
  if (any_text_) return storage::ColumnType::kText;
  if (any_real_) return storage::ColumnType::kReal;
  if (any_integer_) return storage::ColumnType::kInteger;
  return storage::ColumnType::kText;
}

void insert_row(storage::RowInserter& inserter, const std::vector<storage::Value>& row,
                const CsvRecord& record, const TableRef& table) {
  try {
    inserter.insert(row);
  } catch (const Error& e) {
    // The warehouse's own limits ("string or blob too big", constraints): name the line.
    throw Error(e.kind(), fmt::format("{}: cannot insert this record into table '{}': {}",
                                      record.location(0), table.display(), e.what()));
  }
}

LoadReport load_csv(storage::Warehouse& warehouse, const std::filesystem::path& file,
                    const CsvLoadOptions& options, const LoadProgressFn& progress) {
  Stopwatch clock;
  const TableRef table = parse_table_name(options.table, "table");
  auto conflict = [&] {
    return Error(
        ErrorKind::kConflict,
        fmt::format("table '{}' already exists; use --replace to replace it", table.display()));
  };
  if (!options.replace && warehouse.table_exists(table)) throw conflict();

  CsvOptions csv;
  csv.max_record_bytes = options.max_record_bytes;
  csv.delimiter = options.delimiter;
  csv.encoding = options.encoding;
  csv.header = options.header;
  csv.require_rows = false;  // a header alone makes an empty table
  CsvReader reader(file, csv);
  ProgressMeter meter(progress, 2 * reader.bytes_total());

  // Bad header names are reported before the whole file is read.
  std::vector<std::string> names;
  if (options.header) names = column_names(reader, 0);

  // Pass 1: the shape and the column types.
  std::vector<ColumnTypeInference> inference(reader.header().size());
  CsvRecord record;
  while (reader.next(record)) {
    if (inference.empty()) inference.resize(record.size());
    for (size_t k = 0; k < record.size(); ++k) inference[k].observe(record[k]);
    if ((reader.rows_read() & 0x3fff) == 0) meter.update(reader.name(), reader.bytes_read());
  }
  if (!options.header && reader.rows_read() == 0) {
    throw reader.error_at(TextPosition{1, 1}, "the file is empty (expected at least one row)");
  }
  meter.finish_file(reader.name(), reader.bytes_total());

  if (!options.header) names = column_names(reader, inference.size());
  LoadedTable loaded;
  loaded.table = table.display();
  loaded.source = file;
  for (size_t k = 0; k < names.size(); ++k)
    loaded.columns.push_back({names[k], inference[k].type()});

  // Pass 2: insert, in one transaction.
  auto transaction = warehouse.begin();
  if (!options.replace && warehouse.table_exists(table)) throw conflict();
  warehouse.create_table(table, loaded.columns, options.replace);
  {
    auto inserter = warehouse.inserter(table, names);
    std::vector<storage::Value> row(names.size());
    reader.rewind();
    while (reader.next(record)) {
      for (size_t k = 0; k < record.size(); ++k) {
        const std::string_view field = record[k];
        if (field.empty()) {
          row[k] = std::monostate{};
          continue;
        }
        switch (loaded.columns[k].type) {
          case storage::ColumnType::kInteger:
            row[k] = record.int64_at(k, names[k]);
            break;
          case storage::ColumnType::kReal:
            row[k] = record.finite_double_at(k, names[k]);
            break;
          default:
            row[k] = std::string(field);
            break;
        }
      }
      insert_row(*inserter, row, record, table);
      if ((reader.rows_read() & 0x3fff) == 0) meter.update(reader.name(), reader.bytes_read());
    }
    loaded.rows = static_cast<int64_t>(reader.rows_read());
  }
  meter.finish_file(reader.name(), reader.bytes_total());
  kill_point("load:before-commit");
  transaction->commit();

  LoadReport report;
  report.layout = "csv";
  report.source = file;
  report.tables.push_back(std::move(loaded));
  report.seconds = clock.seconds();
  return report;
}

}  // namespace reco::data
