#include "storage/catalog.h"

#include <strings.h>

#include <fmt/format.h>

namespace reco::storage {
namespace {

const std::string* declared(const std::vector<ColumnInfo>& columns, const char* name) {
  for (const auto& c : columns) {
    if (strcasecmp(c.name.c_str(), name) == 0) return &c.name;
  }
  return nullptr;
}

std::optional<double> number(const Value& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  return std::nullopt;
}

}  // namespace

std::unordered_map<int64_t, std::string> item_titles(Warehouse& warehouse,
                                                     std::span<const int64_t> ids) {
  std::unordered_map<int64_t, std::string> titles;
  const TableRef movies{std::nullopt, "movies"};
  if (ids.empty() || !warehouse.table_exists(movies)) return titles;
  const auto columns = warehouse.table_columns(movies);
  const std::string* id = declared(columns, "movieid");
  const std::string* title = declared(columns, "title");
  if (!id || !title) return titles;
  std::string list;
  for (const int64_t i : ids) list += (list.empty() ? "" : ",") + std::to_string(i);  // integers
  const auto rs = warehouse.query(fmt::format("SELECT {}, {} FROM movies WHERE {} IN ({})",
                                              quote_identifier(*id), quote_identifier(*title),
                                              quote_identifier(*id), list));
  for (const auto& row : rs.rows) {
    const auto key = number(row[0]);
    const auto* text = std::get_if<std::string>(&row[1]);
    if (key && text) titles[static_cast<int64_t>(*key)] = *text;
  }
  return titles;
}

std::vector<UserRating> user_ratings(Warehouse& warehouse, const TableRef& table,
                                     const RatingColumns& columns, int64_t user) {
  const auto rs =
      warehouse.query(fmt::format("SELECT {}, {} FROM {} WHERE {} = {}",
                                  quote_identifier(columns.item), quote_identifier(columns.rating),
                                  warehouse.sql_name(table), quote_identifier(columns.user), user));
  std::vector<UserRating> out;
  for (const auto& row : rs.rows) {
    const auto item = number(row[0]);
    const auto rating = number(row[1]);
    if (item && rating) out.push_back({static_cast<int64_t>(*item), *rating});
  }
  return out;
}

}  // namespace reco::storage
