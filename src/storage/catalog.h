#pragma once
// Lookups that show a model's items and users in human terms: titles from the warehouse's
// `movies` table (as `reco load movielens` makes it) and one user's ratings from a ratings table.

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "storage/warehouse.h"

namespace reco::storage {

// Titles of the given item ids from the table `movies` with columns movieid and title (any
// case); empty when there is no such table. Ids without a row are absent from the map.
std::unordered_map<int64_t, std::string> item_titles(Warehouse& warehouse,
                                                     std::span<const int64_t> ids);

struct UserRating {
  int64_t item = 0;
  double rating = 0;
};
// Every rating `user` gave in `table`, in table order (values that are not numbers skipped).
std::vector<UserRating> user_ratings(Warehouse& warehouse, const TableRef& table,
                                     const RatingColumns& columns, int64_t user);

}  // namespace reco::storage
