#pragma once
// Loading delimited text files into warehouse tables: the generic `reco load csv` (column
// names from the header, column types inferred from the values) and the report and progress
// types shared with the MovieLens loader.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "data/csv.h"
#include "data/text_encoding.h"
#include "storage/warehouse.h"

namespace reco::data {

struct LoadProgress {
  std::string_view file;  // the file being read
  uint64_t bytes_done;    // over the whole load (a file read twice counts twice)
  uint64_t bytes_total;
};
using LoadProgressFn = std::function<void(const LoadProgress&)>;

struct LoadedTable {
  std::string table;
  std::filesystem::path source;
  int64_t rows = 0;
  std::vector<storage::ColumnDef> columns;
};

struct LoadReport {
  std::string layout;  // "ml-latest", "ml-100k", "ml-1m/ml-10m" or "csv"
  std::filesystem::path source;
  std::vector<LoadedTable> tables;  // in load order
  double seconds = 0;

  int64_t total_rows() const;
};

// Calls a LoadProgressFn as bytes are parsed, at most once per ~1 MiB and at file ends, so the
// callback costs nothing next to the parsing.
class ProgressMeter {
 public:
  ProgressMeter(const LoadProgressFn& callback, uint64_t bytes_total)
      : callback_(callback), total_(bytes_total) {}
  // `file_bytes_done`: how far into `file` the reader is.
  void update(std::string_view file, uint64_t file_bytes_done) {
    if (!callback_) return;
    const uint64_t done = base_ + file_bytes_done;
    if (done < reported_ + (1u << 20)) return;
    reported_ = done;
    callback_(LoadProgress{file, done, total_});
  }
  void finish_file(std::string_view file, uint64_t file_bytes) {
    base_ += file_bytes;
    reported_ = base_;
    if (callback_) callback_(LoadProgress{file, base_, total_});
  }

 private:
  const LoadProgressFn& callback_;
  uint64_t total_;
  uint64_t base_ = 0;
  uint64_t reported_ = 0;
};

struct CsvLoadOptions {
  std::string table;  // [schema.]table, parsed with parse_table_name
  bool replace = false;
  std::string delimiter = ",";
  TextEncoding encoding = TextEncoding::kUtf8;
  bool header = true;  // false: columns are named column1, column2, ...
  size_t max_record_bytes = CsvOptions::kDefaultMaxRecordBytes;  // see CsvOptions
};

// Inserts one row; a warehouse error is reported at the record's file:line:column.
void insert_row(storage::RowInserter& inserter, const std::vector<storage::Value>& row,
                const CsvRecord& record, const TableRef& table);

// The SQL type a column of text values gets: INTEGER when every non-empty value is an integer,
// REAL when every one is a number, otherwise (or when every value is empty) TEXT. Integers with
// leading zeros ("007") and integers beyond 64 bits make a column TEXT, so no digit is lost.
class ColumnTypeInference {
 public:
  void observe(std::string_view value);
  storage::ColumnType type() const;

 private:
  bool any_integer_ = false;
  bool any_real_ = false;
  bool any_text_ = false;
};

// Creates `options.table` from `file` in one transaction: the first pass infers the column
// types, the second inserts the rows (empty fields become NULL). Throws Error(kConflict) when the
// table exists and options.replace is false, Error(kInput) "file:line:column: ..." for bad input
// (header names must be plain identifiers, distinct ignoring case); on any error the warehouse
// is left as it was.
LoadReport load_csv(storage::Warehouse& warehouse, const std::filesystem::path& file,
                    const CsvLoadOptions& options, const LoadProgressFn& progress = {});

}  // namespace reco::data
