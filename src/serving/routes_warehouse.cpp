// Warehouse routes for the console: GET /warehouse/tables (tables, columns, row counts),
// POST /warehouse/query (one read-only statement, bounded rows and time), and the user explorer
// GET /endpoints/{name}/users/{user} (the user's ratings beside the endpoint's top-10, with
// titles).
#include <fmt/format.h>

#include "core/ids.h"
#include "recommendation/top_n.h"
#include "serving/routes.h"
#include "storage/catalog.h"
#include "storage/warehouse.h"
#include "training/steps.h"

namespace reco::serving {

namespace {

constexpr size_t kDefaultRowLimit = 200;
constexpr size_t kMaxRowLimit = 5000;
constexpr size_t kExplorerTopK = 10;

// The server's warehouse (ServerOptions::db_location, resolved when the server starts).
std::unique_ptr<storage::Warehouse> open_warehouse(RouteContext& ctx) {
  return storage::open_warehouse(ctx.options.db_location);
}

json value_json(const storage::Value& v) {
  if (std::holds_alternative<std::monostate>(v)) return nullptr;
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) return std::isfinite(*d) ? json(*d) : json(nullptr);
  return std::get<std::string>(v);
}

void list_tables(RouteContext& ctx, RouteCall&, Response& res) {
  const auto wh = open_warehouse(ctx);
  json tables = json::array();
  for (const auto& t : wh->tables()) {
    json columns = json::array();
    for (const auto& c : t.columns)
      columns.push_back({{"name", c.name}, {"type", c.declared_type}});
    tables.push_back({{"name", t.name},
                      {"view", t.view},
                      {"rows", t.rows ? json(*t.rows) : json(nullptr)},
                      {"columns", std::move(columns)}});
  }
  send_json(res, 200,
            {{"backend", wh->backend_name()}, {"location", wh->location()}, {"tables", tables}});
}

// POST /warehouse/query {"sql": "...", "limit": N}: at most N rows (default 200, at most 5000),
// 5 s, one statement that only reads.
void run_query(RouteContext& ctx, RouteCall& call, Response& res) {
  const std::optional<json> body = try_parse_json(call.body);
  if (!body || !body->is_object() || !body->contains("sql") || !(*body)["sql"].is_string()) {
    return send_error(res, 400, R"(the body must be a JSON object {"sql": "...", "limit": N})");
  }
  storage::QueryLimits limits;
  limits.max_rows = kDefaultRowLimit;
  if (const auto it = body->find("limit"); it != body->end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 ||
        it->get<int64_t>() > static_cast<int64_t>(kMaxRowLimit)) {
      return send_error(res, 400, fmt::format("limit must be an integer in [1, {}]", kMaxRowLimit));
    }
    limits.max_rows = it->get<size_t>();
  }
  const auto start = std::chrono::steady_clock::now();
  const auto wh = open_warehouse(ctx);
  const storage::LimitedResult rs = wh->read_only_query((*body)["sql"].get<std::string>(), limits);
  json rows = json::array();
  for (const auto& row : rs.rows) {
    json r = json::array();
    for (const auto& v : row) r.push_back(value_json(v));
    rows.push_back(std::move(r));
  }
  send_json(res, 200,
            {{"columns", rs.columns},
             {"rows", std::move(rows)},
             {"truncated", rs.truncated},
             {"limit", limits.max_rows},
             {"elapsed_s",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()}});
}

// GET /endpoints/{name}/users/{user}: what the user rated (from the table the model was trained
// on, when it is still there) beside the endpoint's top-10 for them, with titles from `movies`.
void explore_user(RouteContext& ctx, RouteCall& call, Response& res) {
  const std::string& name = call.params[0];
  const std::string& user_text = call.params[1];
  const std::optional<int64_t> parsed = id_from_text(user_text);
  if (!parsed) {
    return send_error(res, 400, fmt::format("user id must be an integer, got {}", user_text));
  }
  const int64_t user = *parsed;
  const auto live = ctx.live.get(name);  // 404 for an unknown endpoint
  const algorithms::Model& model = live->model();
  const json metadata = parse_json(live->artifact->metadata);
  const int64_t dense = model.users.find(user);

  const auto wh = open_warehouse(ctx);
  json notes = json::array();
  // The ratings: the training table's rows for this user; without the table, the items the
  // model knows the user rated, without their values.
  std::vector<storage::UserRating> rated;
  std::string table_name;
  if (const auto data = metadata.find("data"); data != metadata.end() && data->is_object()) {
    table_name = data->value("table", "");
  }
  bool from_table = false;
  if (!table_name.empty()) {
    try {
      const TableRef table = parse_table_name(table_name, "training table");
      if (wh->table_exists(table)) {
        rated = storage::user_ratings(
            *wh, table, training::rating_columns(*wh, table, training::JobSpec{}), user);
        from_table = true;
      } else {
        notes.push_back(
            fmt::format("the training table {} is gone: ratings are not shown", table_name));
      }
    } catch (const Error& e) {
      notes.push_back(
          fmt::format("the ratings of table {} cannot be read: {}", table_name, e.what()));
    }
  }
  if (!from_table && dense >= 0) {
    for (const uint32_t i : model.rated_by(static_cast<uint32_t>(dense))) {
      rated.push_back({model.items.raw(i), std::nan("")});
    }
  }
  std::stable_sort(rated.begin(), rated.end(), [](const auto& a, const auto& b) {
    return a.rating > b.rating;  // NaN compares false: the order is kept
  });
  if (dense < 0) {
    notes.push_back(fmt::format(
        "user {} is not in the model's training data: ranked by the fallback estimate", user));
  }

  const auto top = recommendation::top_n_for_user(model, user, kExplorerTopK);
  std::vector<int64_t> ids;
  for (const auto& r : rated) ids.push_back(r.item);
  for (const auto& s : top) ids.push_back(model.items.raw(s.item));
  const auto titles = storage::item_titles(*wh, ids);
  auto title = [&](int64_t id) -> json {
    const auto it = titles.find(id);
    return it == titles.end() ? json(nullptr) : json(it->second);
  };

  json rated_json = json::array();
  for (const auto& r : rated) {
    rated_json.push_back({{"item", r.item},
                          {"rating", std::isnan(r.rating) ? json(nullptr) : json(r.rating)},
                          {"title", title(r.item)}});
  }
  json recs = json::array();
  for (size_t k = 0; k < top.size(); ++k) {
    const int64_t id = model.items.raw(top[k].item);
    recs.push_back({{"rank", k + 1},
                    {"item", id},
                    {"score", top[k].score},
                    {"prediction", model.clip(top[k].score)},
                    {"title", title(id)}});
  }
  call.endpoint = name;
  send_json(res, 200,
            {{"endpoint", name},
             {"model", live->endpoint.model_name},
             {"version", live->endpoint.model_version},
             {"user", user},
             {"known", dense >= 0},
             {"ratings_table", from_table ? json(table_name) : json(nullptr)},
             {"rated", std::move(rated_json)},
             {"recommendations", std::move(recs)},
             {"notes", std::move(notes)}});
}

}  // namespace

std::vector<RouteSpec> warehouse_routes() {
  return {
      {"GET", "/warehouse/tables", Access::kToken, BodyKind::kNone, false, "", list_tables},
      {"POST", "/warehouse/query", Access::kToken, BodyKind::kAny, false, "", run_query},
      {"GET", "/endpoints/{name}/users/{user}", Access::kToken, BodyKind::kNone, false, "",
       explore_user},
  };
}

}  // namespace reco::serving
