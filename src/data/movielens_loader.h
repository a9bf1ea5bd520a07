#pragma once
// Loads a MovieLens data set folder into the warehouse tables
//   movies(movieid INTEGER, title TEXT, genres TEXT)
//   ratings(userid INTEGER, movieid INTEGER, rating REAL, timestamp INTEGER)   -- epoch seconds
//   links(movieid INTEGER, imdbid TEXT, tmdbid INTEGER)                       -- when present
//   tags(userid INTEGER, movieid INTEGER, tag TEXT, timestamp INTEGER)        -- when present
// whatever the release's file layout:
//   ml-latest:     ratings.csv, movies.csv [, links.csv, tags.csv]   (ml-latest-small, ml-20m,
//                  ml-25m, ml-32m, ml-latest)
//   ml-100k:       u.data (tab-separated), u.item (Latin-1, '|'), u.genre
//   ml-1m/ml-10m:  ratings.dat, movies.dat [, tags.dat]   ("::"-separated; ml-1m is Latin-1)
// Titles and tags end up UTF-8; genres are '|'-joined names as in the newer releases.

#include <filesystem>
#include <optional>

#include "data/csv_loader.h"
#include "storage/warehouse.h"

namespace reco::data {

enum class MovieLensLayout { kLatest, k100k, kDat };
const char* movielens_layout_name(MovieLensLayout layout);  // "ml-latest", "ml-100k", ...

struct MovieLensSource {
  MovieLensLayout layout;
  std::filesystem::path dir;  // the folder holding the files
};

// The layout of `dir`, or of its only subdirectory (an unpacked archive often nests one);
// nullopt when neither holds a known layout. Throws Error(kNotFound) when `dir` does not exist.
std::optional<MovieLensSource> detect_movielens(const std::filesystem::path& dir);

// Replaces (drops and creates) the tables the layout provides and fills them, in one
// transaction: on any error nothing is changed. Throws Error(kNotFound) listing the expected
// files for an unknown layout, Error(kInput) "file:line:column: ..." for bad data (unexpected
// header, non-integer id or timestamp, non-finite rating, wrong field count, bad encoding).
LoadReport load_movielens(storage::Warehouse& warehouse, const std::filesystem::path& dir,
                          const LoadProgressFn& progress = {});

}  // namespace reco::data
