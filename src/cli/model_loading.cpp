#include "cli/model_loading.h"

#include <strings.h>

#include <filesystem>

#include <fmt/format.h>

#include "core/error.h"
#include "registry/model_registry.h"

namespace reco::cli {

registry::Artifact load_model(Context& ctx, const std::string& model, std::optional<int> version) {
  registry::ModelRegistry models(ctx.home().models_dir());
  const bool is_reference =
      model.find('/') != std::string::npos || model.find(':') != std::string::npos;
  if (is_reference) {
    if (version)
      throw Error(ErrorKind::kUsage, "--version applies to a model name, not to a path or URI");
    return registry::read_artifact(registry::path_from_uri(model, models));
  }
  return registry::read_artifact(models.resolve(model, version));
}

std::unordered_map<int64_t, std::string> movie_titles(Context& ctx,
                                                      const std::vector<int64_t>& ids) {
  std::unordered_map<int64_t, std::string> titles;
  auto& wh = ctx.warehouse();
  const TableRef movies{std::nullopt, "movies"};
  if (ids.empty() || !wh.table_exists(movies)) return titles;
  const auto cols = wh.table_columns(movies);
  auto has = [&](const char* name) {
    for (const auto& c : cols) {
      if (strcasecmp(c.name.c_str(), name) == 0) return true;
    }
    return false;
  };
  if (!has("movieid") || !has("title")) return titles;
  std::string list;
  for (int64_t id : ids) list += (list.empty() ? "" : ",") + std::to_string(id);  // integers only
  const auto rs = wh.query("SELECT movieid, title FROM movies WHERE movieid IN (" + list + ")");
  for (const auto& row : rs.rows) {
    const auto* id = std::get_if<int64_t>(&row[0]);
    const auto* title = std::get_if<std::string>(&row[1]);
    if (id && title) titles[*id] = *title;
  }
  return titles;
}

}  // namespace reco::cli
