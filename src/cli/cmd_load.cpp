// `reco load movielens DIR` and `reco load csv FILE --table T`: files into warehouse tables.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/context.h"
#include "data/csv.h"
#include "data/csv_loader.h"
#include "data/movielens_loader.h"

namespace reco::cli {

namespace {

struct CsvArgs {
  std::string file;
  std::string table;
  bool replace = false;
  std::string delimiter = ",";
  std::string encoding = "utf-8";
  bool no_header = false;
  int64_t max_record_mib = data::CsvOptions::kDefaultMaxRecordBytes >> 20;
};

// A percentage on stderr that is redrawn only when it changes, and erased at the end so the
// summary on stdout stays clean in a terminal.
class LoadProgressLine {
 public:
  explicit LoadProgressLine(bool enabled) : enabled_(enabled) {}
  ~LoadProgressLine() { clear(); }
  data::LoadProgressFn callback() {
    if (!enabled_) return {};
    return [this](const data::LoadProgress& p) {
      const int percent =
          p.bytes_total ? static_cast<int>(p.bytes_done * 100 / p.bytes_total) : 100;
      if (percent == last_percent_ && p.file == last_file_) return;
      last_percent_ = percent;
      last_file_ = std::string(p.file);
      const std::string text = fmt::format("loading {}: {:3}%", p.file, percent);
      fmt::print(stderr, "\r{:<{}}", text, width_);
      width_ = std::max(width_, text.size());
      std::fflush(stderr);
      shown_ = true;
    };
  }
  void clear() {
    if (!shown_) return;
    fmt::print(stderr, "\r{:<{}}\r", "", width_);
    std::fflush(stderr);
    shown_ = false;
  }

 private:
  bool enabled_;
  bool shown_ = false;
  int last_percent_ = -1;
  std::string last_file_;
  size_t width_ = 0;
};

void print_report(const data::LoadReport& report, bool show_columns) {
  for (const auto& table : report.tables) {
    fmt::print("loaded {}: {} rows\n", table.table, table.rows);
    if (show_columns) {
      std::string columns;
      for (const auto& c : table.columns) {
        if (!columns.empty()) columns += ", ";
        columns += fmt::format("{} {}", c.name, storage::column_type_sql(c.type));
      }
      fmt::print("columns: {}\n", columns);
    }
  }
  const int64_t rows = report.total_rows();
  fmt::print("{} rows from {} ({}) in {:.2f} s ({:.0f} rows/s)\n", rows, report.source.string(),
             report.layout, report.seconds,
             report.seconds > 0 ? static_cast<double>(rows) / report.seconds : 0.0);
}

}  // namespace

void register_load(Command& app, Context& ctx) {
  Command load = app.add_subcommand("load", "Load data files into warehouse tables");
  load.require_subcommand();

  auto dir = std::make_shared<std::string>();
  Command movielens = load.add_subcommand(
      "movielens", "Load a MovieLens folder into the tables movies, ratings, links and tags");
  movielens.footer(
      "Loads the tables movies, ratings and, when the release has them, links and tags. The "
      "layout is detected from the files present:\n"
      "  ml-latest-small, ml-20m, ml-25m, ml-latest: ratings.csv, movies.csv [, links.csv, "
      "tags.csv]\n"
      "  ml-100k: u.data, u.item, u.genre\n"
      "  ml-1m, ml-10m: ratings.dat, movies.dat [, tags.dat]\n"
      "Each loaded table is replaced (dropped and re-created); other tables are left alone. "
      "The whole load is one transaction: on any error (reported as file:line:column) the "
      "warehouse is unchanged.\n"
      "Tables: movies(movieid, title, genres), ratings(userid, movieid, rating, timestamp), "
      "links(movieid, imdbid, tmdbid), tags(userid, movieid, tag, timestamp).\n"
      "Example: reco load movielens ~/Downloads/ml-latest-small");
  movielens.option("DIR", *dir, "The unpacked MovieLens folder (or a folder holding it)")
      .required();
  movielens.callback([&ctx, dir] {
    LoadProgressLine progress(ctx.progress_enabled());
    const data::LoadReport report =
        data::load_movielens(ctx.warehouse(), *dir, progress.callback());
    progress.clear();
    print_report(report, /*show_columns=*/false);
  });

  auto args = std::make_shared<CsvArgs>();
  Command csv = load.add_subcommand(
      "csv", "Load a CSV (or other delimited) file into a new table, inferring column types");
  csv.footer(
      "Column names come from the header line "
      "(they must be plain identifiers: letters, digits, _ and $, not starting with a digit) or "
      "are column1, column2, ... with --no-header. Column types are inferred from the whole "
      "file: INTEGER when every value is an integer, REAL when every value is a number, "
      "otherwise TEXT (also for integers with leading zeros, so 007 stays 007). Empty fields "
      "become NULL. Fields may be enclosed in double quotes (RFC 4180). One transaction: on any "
      "error the warehouse is unchanged.\n"
      "Example: reco load csv ratings.tsv --table ratings_raw --delimiter tab --replace");
  csv.option("FILE", args->file, "The file to load").required();
  csv.option("-t,--table", args->table, "Table to create: [schema.]table").required();
  csv.flag("--replace", args->replace, "Replace the table if it exists (default: error)");
  csv.option("-d,--delimiter", args->delimiter,
             "Field delimiter: one or more characters, e.g. , ; | :: or tab (also \\t)")
      .show_default();
  csv.option("--encoding", args->encoding,
             "Encoding of the file: utf-8 (validated), latin-1 (converted to UTF-8), or "
             "auto (UTF-8 when valid, else Latin-1)")
      .show_default();
  csv.flag("--no-header", args->no_header,
           "The first line is data; columns are named column1, column2, ...");
  csv.option("--max-record-mib", args->max_record_mib,
             "Longest record accepted, in MiB (1..512): a longer one (or one with more than "
             "65536 fields) is an error naming its line, so memory stays bounded on any file")
      .show_default();
  csv.callback([&ctx, args] {
    data::CsvLoadOptions options;
    const auto limit = data::CsvOptions::kMaxRecordBytesLimit >> 20;
    if (args->max_record_mib < 1 || args->max_record_mib > static_cast<int64_t>(limit)) {
      throw Error(ErrorKind::kUsage, fmt::format("--max-record-mib must be 1..{}, got {}", limit,
                                                 args->max_record_mib));
    }
    options.max_record_bytes = static_cast<size_t>(args->max_record_mib) << 20;
    options.table = args->table;
    options.replace = args->replace;
    options.delimiter = data::parse_delimiter(args->delimiter);
    options.encoding = data::parse_text_encoding(args->encoding);
    options.header = !args->no_header;
    LoadProgressLine progress(ctx.progress_enabled());
    const data::LoadReport report =
        data::load_csv(ctx.warehouse(), args->file, options, progress.callback());
    progress.clear();
    print_report(report, /*show_columns=*/true);
  });
}

}  // namespace reco::cli
