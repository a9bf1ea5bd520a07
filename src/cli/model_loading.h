#pragma once
// Loading a model for the commands that use one (recommend, predict).

#include <optional>
#include <string>

#include "cli/context.h"
#include "registry/artifact.h"

namespace reco::cli {

// --model accepts a registered model name (latest version unless --version), a models:/ URI,
// a file:// URI or a path to an artifact.
registry::Artifact load_model(Context& ctx, const std::string& model, std::optional<int> version);

// Titles of the given movie ids from the warehouse's movies table, when it exists.
std::unordered_map<int64_t, std::string> movie_titles(Context& ctx,
                                                      const std::vector<int64_t>& ids);

}  // namespace reco::cli
