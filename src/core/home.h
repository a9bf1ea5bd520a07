#pragma once
// The reco home directory: everything a user makes lives under it.
//   <home>/warehouse.db          embedded SQLite warehouse (default --db)
//   <home>/models/<name>/v<N>/   versioned model artifacts (model.reco + run.json)
//   <home>/datasets/<name>/      data sets fetched by `reco fetch`
// Resolution: --home, else $RECO_HOME, else $XDG_DATA_HOME/reco, else ~/.local/share/reco.

#include <filesystem>
#include <optional>
#include <string>

namespace reco {

class Home {
 public:
  explicit Home(std::filesystem::path root) : root_(std::move(root)) {}
  static Home resolve(const std::optional<std::string>& flag);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path warehouse_path() const { return root_ / "warehouse.db"; }
  std::filesystem::path models_dir() const { return root_ / "models"; }
  std::filesystem::path datasets_dir() const { return root_ / "datasets"; }
  void create() const;  // mkdir -p the root

 private:
  std::filesystem::path root_;
};

}  // namespace reco
