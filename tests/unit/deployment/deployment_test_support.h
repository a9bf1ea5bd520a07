#pragma once
// Models written into a scratch home's registry for the deployment tests.

#include <string>

#include "../registry/test_models.h"
#include "core/home.h"
#include "registry/model_registry.h"

namespace reco::deployment::testing {

using registry::testing::TempDir;

// Trains nothing: publishes a random model as the next version of `name`; returns its path.
inline std::filesystem::path publish_random(const Home& home, const std::string& name,
                                            uint64_t seed) {
  registry::ModelRegistry models(home.models_dir());
  const auto version = models.reserve_version(name);
  const auto model = registry::testing::random_model(seed, {20, 30, 4});
  return models.publish(version, model, {{"seed", seed}}, {{"job", "test"}});
}

inline void corrupt_file(const std::filesystem::path& path) {
  std::string bytes = read_file(path);
  bytes[bytes.size() / 2] ^= 0x5a;
  write_file_atomic(path, bytes);
}

}  // namespace reco::deployment::testing
