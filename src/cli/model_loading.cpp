#include "cli/model_loading.h"

#include <filesystem>

#include <fmt/format.h>

#include "core/error.h"
#include "registry/model_registry.h"
#include "storage/catalog.h"

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
  return storage::item_titles(ctx.warehouse(), ids);
}

}  // namespace reco::cli
