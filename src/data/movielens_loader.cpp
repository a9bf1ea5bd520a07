#include "data/movielens_loader.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "core/stopwatch.h"
#include "data/csv.h"
#include "data/csv_loader.h"

namespace reco::data {
namespace fs = std::filesystem;
using storage::ColumnDef;
using storage::ColumnType;
using storage::Value;

namespace {

constexpr const char* kNoGenres = "(no genres listed)";

// One source file feeding one table.
struct FileLoad {
  fs::path path;
  std::string table;
  CsvOptions csv;
  std::vector<std::string> expected_header;  // checked when csv.header
  std::vector<std::string> field_names;      // for messages
  std::vector<ColumnDef> columns;
  std::function<void(const CsvRecord&, const std::vector<std::string>&, std::vector<Value>&)>
      convert;
};

CsvOptions csv_file() {
  return CsvOptions{};
}

CsvOptions dat_file(std::string delimiter, TextEncoding encoding) {
  CsvOptions o;
  o.delimiter = std::move(delimiter);
  o.quoting = false;  // titles such as "Great Performances" Cats (1998) are not CSV-quoted
  o.header = false;
  o.encoding = encoding;
  return o;
}

std::vector<ColumnDef> ratings_columns() {
  return {{"userid", ColumnType::kInteger},
          {"movieid", ColumnType::kInteger},
          {"rating", ColumnType::kReal},
          {"timestamp", ColumnType::kInteger}};
}
std::vector<ColumnDef> movies_columns() {
  return {{"movieid", ColumnType::kInteger},
          {"title", ColumnType::kText},
          {"genres", ColumnType::kText}};
}
std::vector<ColumnDef> links_columns() {
  return {{"movieid", ColumnType::kInteger},
          {"imdbid", ColumnType::kText},
          {"tmdbid", ColumnType::kInteger}};
}
std::vector<ColumnDef> tags_columns() {
  return {{"userid", ColumnType::kInteger},
          {"movieid", ColumnType::kInteger},
          {"tag", ColumnType::kText},
          {"timestamp", ColumnType::kInteger}};
}

// The rating scale a data set's README documents; a rating off it is damage, not data (the
// generic CSV loader, by contrast, loads whatever numbers a file holds).
struct RatingScale {
  double min;
  double max;
  double step;
  const char* source;  // whose README says so
};
constexpr RatingScale kHalfStars{0.5, 5.0, 0.5, "ml-latest, ml-25m, ml-20m and ml-10m"};
constexpr RatingScale kWholeStars{1.0, 5.0, 1.0, "ml-100k and ml-1m"};

auto ratings_converter(RatingScale scale) {
  return [scale](const CsvRecord& r, const std::vector<std::string>& n, std::vector<Value>& v) {
    v[0] = r.int64_at(0, n[0]);
    v[1] = r.int64_at(1, n[1]);
    const double rating = r.finite_double_at(2, n[2]);
    const double steps = (rating - scale.min) / scale.step;
    if (rating < scale.min || rating > scale.max || steps != std::floor(steps)) {
      throw r.error(2, fmt::format("column '{}': rating {} is not on the data set's scale: {} to "
                                   "{} in steps of {} (the README of {})",
                                   n[2], r[2], scale.min, scale.max, scale.step, scale.source));
    }
    v[2] = rating;
    v[3] = r.int64_at(3, n[3]);
  };
}

void convert_movies(const CsvRecord& r, const std::vector<std::string>& n, std::vector<Value>& v) {
  v[0] = r.int64_at(0, n[0]);
  v[1] = std::string(r[1]);
  v[2] = std::string(r[2]);
}

void convert_links(const CsvRecord& r, const std::vector<std::string>& n, std::vector<Value>& v) {
  v[0] = r.int64_at(0, n[0]);
  // Kept as text: IMDb ids are zero-padded ("0114709").
  if (r[1].empty()) {
    v[1] = std::monostate{};
  } else {
    v[1] = std::string(r[1]);
  }
  const auto tmdb = r.optional_int64_at(2, n[2]);
  if (tmdb) {
    v[2] = *tmdb;
  } else {
    v[2] = std::monostate{};
  }
}

void convert_tags(const CsvRecord& r, const std::vector<std::string>& n, std::vector<Value>& v) {
  v[0] = r.int64_at(0, n[0]);
  v[1] = r.int64_at(1, n[1]);
  v[2] = std::string(r[2]);
  v[3] = r.int64_at(3, n[3]);
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (size_t k = 0; k < parts.size(); ++k) {
    if (k) out += separator;
    out += parts[k];
  }
  return out;
}

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

std::optional<MovieLensLayout> layout_of(const fs::path& dir) {
  if (is_file(dir / "ratings.csv") && is_file(dir / "movies.csv")) return MovieLensLayout::kLatest;
  if (is_file(dir / "u.data") && is_file(dir / "u.item") && is_file(dir / "u.genre")) {
    return MovieLensLayout::k100k;
  }
  if (is_file(dir / "ratings.dat") && is_file(dir / "movies.dat")) return MovieLensLayout::kDat;
  return std::nullopt;
}

// u.genre: "name|index" per line; returns the names by index.
std::vector<std::string> read_100k_genres(const fs::path& path) {
  CsvReader reader(path, dat_file("|", TextEncoding::kAuto));
  std::vector<std::string> names;
  std::vector<bool> seen;
  CsvRecord r;
  while (reader.next(r)) {
    if (r.size() != 2)
      throw r.error(0, fmt::format("expected 2 fields (name|index), found {}", r.size()));
    const int64_t index = r.int64_at(1, "genre index");
    if (index < 0 || index >= 1000) {
      throw r.error(1, fmt::format("genre index {} is out of range (0 to 999)", index));
    }
    const auto k = static_cast<size_t>(index);
    if (k >= names.size()) {
      names.resize(k + 1);
      seen.resize(k + 1);
    }
    if (seen[k]) throw r.error(1, fmt::format("genre index {} appears twice", index));
    seen[k] = true;
    names[k] = std::string(r[0]);
  }
  for (size_t k = 0; k < seen.size(); ++k) {
    if (!seen[k]) {
      throw Error(ErrorKind::kInput,
                  fmt::format("{}: genre index {} is missing (indexes must run from 0 to {})",
                              path.string(), k, seen.size() - 1));
    }
  }
  return names;
}

std::vector<FileLoad> plan_latest(const fs::path& dir) {
  std::vector<FileLoad> plan;
  plan.push_back({dir / "movies.csv",
                  "movies",
                  csv_file(),
                  {"movieId", "title", "genres"},
                  {"movieId", "title", "genres"},
                  movies_columns(),
                  convert_movies});
  plan.push_back({dir / "ratings.csv",
                  "ratings",
                  csv_file(),
                  {"userId", "movieId", "rating", "timestamp"},
                  {"userId", "movieId", "rating", "timestamp"},
                  ratings_columns(),
                  ratings_converter(kHalfStars)});
  if (is_file(dir / "links.csv")) {
    plan.push_back({dir / "links.csv",
                    "links",
                    csv_file(),
                    {"movieId", "imdbId", "tmdbId"},
                    {"movieId", "imdbId", "tmdbId"},
                    links_columns(),
                    convert_links});
  }
  if (is_file(dir / "tags.csv")) {
    plan.push_back({dir / "tags.csv",
                    "tags",
                    csv_file(),
                    {"userId", "movieId", "tag", "timestamp"},
                    {"userId", "movieId", "tag", "timestamp"},
                    tags_columns(),
                    convert_tags});
  }
  return plan;
}

std::vector<FileLoad> plan_100k(const fs::path& dir) {
  const std::vector<std::string> genres = read_100k_genres(dir / "u.genre");
  constexpr size_t kGenreFlagsStart = 5;  // id|title|release date|video release date|IMDb URL
  const size_t expected_fields = kGenreFlagsStart + genres.size();
  auto convert_item = [genres, expected_fields](const CsvRecord& r,
                                                const std::vector<std::string>& n,
                                                std::vector<Value>& v) {
    if (r.size() != expected_fields) {
      throw r.error(0, fmt::format("expected {} fields (5 + the {} genres of u.genre), found {}",
                                   expected_fields, genres.size(), r.size()));
    }
    v[0] = r.int64_at(0, n[0]);
    v[1] = std::string(r[1]);
    std::string joined;
    for (size_t g = 0; g < genres.size(); ++g) {
      const std::string_view flag = r[kGenreFlagsStart + g];
      if (flag == "1") {
        if (!joined.empty()) joined += '|';
        joined += genres[g];
      } else if (flag != "0") {
        throw r.error(kGenreFlagsStart + g,
                      fmt::format("genre flag '{}' must be 0 or 1, found '{}'", genres[g], flag));
      }
    }
    v[2] = joined.empty() ? std::string(kNoGenres) : std::move(joined);
  };
  std::vector<FileLoad> plan;
  plan.push_back({dir / "u.item",
                  "movies",
                  dat_file("|", TextEncoding::kAuto),
                  {},
                  {"movie id", "title", "genres"},
                  movies_columns(),
                  convert_item});
  plan.push_back({dir / "u.data",
                  "ratings",
                  dat_file("\t", TextEncoding::kUtf8),
                  {},
                  {"user id", "item id", "rating", "timestamp"},
                  ratings_columns(),
                  ratings_converter(kWholeStars)});
  return plan;
}

std::vector<FileLoad> plan_dat(const fs::path& dir) {
  std::vector<FileLoad> plan;
  plan.push_back({dir / "movies.dat",
                  "movies",
                  dat_file("::", TextEncoding::kAuto),
                  {},
                  {"MovieID", "Title", "Genres"},
                  movies_columns(),
                  convert_movies});
  plan.push_back({dir / "ratings.dat",
                  "ratings",
                  dat_file("::", TextEncoding::kUtf8),
                  {},
                  {"UserID", "MovieID", "Rating", "Timestamp"},
                  ratings_columns(),
                  // ml-1m (whole stars) ships users.dat; ml-10m (half stars) does not.
                  ratings_converter(is_file(dir / "users.dat") ? kWholeStars : kHalfStars)});
  if (is_file(dir / "tags.dat")) {
    plan.push_back({dir / "tags.dat",
                    "tags",
                    dat_file("::", TextEncoding::kAuto),
                    {},
                    {"UserID", "MovieID", "Tag", "Timestamp"},
                    tags_columns(),
                    convert_tags});
  }
  return plan;
}

int64_t load_file(storage::Warehouse& warehouse, const FileLoad& load, ProgressMeter& meter) {
  CsvReader reader(load.path, load.csv);
  if (load.csv.header && reader.header() != load.expected_header) {
    throw reader.error_at(reader.header_position(0),
                          fmt::format("unexpected header '{}'; expected '{}'",
                                      join(reader.header(), load.csv.delimiter),
                                      join(load.expected_header, load.csv.delimiter)));
  }
  const TableRef table{std::nullopt, load.table};
  warehouse.create_table(table, load.columns, /*replace=*/true);
  std::vector<std::string> names;
  for (const auto& c : load.columns) names.push_back(c.name);
  auto inserter = warehouse.inserter(table, names);
  std::vector<Value> row(load.columns.size());
  CsvRecord record;
  const std::string file = load.path.filename().string();
  while (reader.next(record)) {
    load.convert(record, load.field_names, row);
    insert_row(*inserter, row, record, table);
    if ((reader.rows_read() & 0x3fff) == 0) meter.update(file, reader.bytes_read());
  }
  meter.finish_file(file, reader.bytes_total());
  return static_cast<int64_t>(reader.rows_read());
}

}  // namespace

const char* movielens_layout_name(MovieLensLayout layout) {
  switch (layout) {
    case MovieLensLayout::kLatest:
      return "ml-latest";
    case MovieLensLayout::k100k:
      return "ml-100k";
    case MovieLensLayout::kDat:
      return "ml-1m/ml-10m";
  }
  return "unknown";
}

std::optional<MovieLensSource> detect_movielens(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    throw Error(ErrorKind::kNotFound, fmt::format("directory not found: {}", dir.string()));
  }
  if (!fs::is_directory(dir, ec)) {
    throw Error(ErrorKind::kNotFound,
                fmt::format("{} is not a directory (expected a MovieLens folder)", dir.string()));
  }
  if (auto layout = layout_of(dir)) return MovieLensSource{*layout, dir};
  std::optional<fs::path> only_subdir;
  size_t subdirs = 0;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_directory(ec)) {
      ++subdirs;
      only_subdir = entry.path();
    }
  }
  if (subdirs == 1) {
    if (auto layout = layout_of(*only_subdir)) return MovieLensSource{*layout, *only_subdir};
  }
  return std::nullopt;
}

LoadReport load_movielens(storage::Warehouse& warehouse, const fs::path& dir,
                          const LoadProgressFn& progress) {
  Stopwatch clock;
  const auto source = detect_movielens(dir);
  if (!source) {
    std::vector<std::string> present;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      present.push_back(entry.path().filename().string());
    }
    std::sort(present.begin(), present.end());
    if (present.size() > 12) {
      present.resize(12);
      present.push_back("...");
    }
    throw Error(
        ErrorKind::kNotFound,
        fmt::format("no MovieLens data set in {}: expected ratings.csv and movies.csv "
                    "(ml-latest-small, ml-25m, ml-latest; links.csv and tags.csv "
                    "optional), or u.data, u.item and u.genre (ml-100k), or ratings.dat "
                    "and movies.dat (ml-1m, ml-10m; tags.dat optional); found {}",
                    dir.string(), present.empty() ? std::string("nothing") : join(present, ", ")));
  }

  std::vector<FileLoad> plan;
  switch (source->layout) {
    case MovieLensLayout::kLatest:
      plan = plan_latest(source->dir);
      break;
    case MovieLensLayout::k100k:
      plan = plan_100k(source->dir);
      break;
    case MovieLensLayout::kDat:
      plan = plan_dat(source->dir);
      break;
  }
  uint64_t total_bytes = 0;
  for (const auto& load : plan) {
    std::error_code ec;
    const auto size = fs::file_size(load.path, ec);
    if (!ec) total_bytes += size;
  }
  ProgressMeter meter(progress, total_bytes);

  LoadReport report;
  report.layout = movielens_layout_name(source->layout);
  report.source = source->dir;
  auto transaction = warehouse.begin();
  for (const auto& load : plan) {
    LoadedTable table;
    table.table = load.table;
    table.source = load.path;
    table.columns = load.columns;
    table.rows = load_file(warehouse, load, meter);
    report.tables.push_back(std::move(table));
  }
  transaction->commit();
  report.seconds = clock.seconds();
  return report;
}

}  // namespace reco::data
