#pragma once
// The reco home directory: everything a user makes lives under it.
//   <home>/warehouse.db          embedded SQLite warehouse (default --db)
//   <home>/models/<name>/v<N>/   versioned model artifacts (model.reco + run.json)
//   <home>/datasets/<name>/      data sets fetched by `reco fetch`
// Resolution: --home, else $RECO_HOME, else $XDG_DATA_HOME/reco, else ~/.local/share/reco.
// The first two are explicit (a user named the folder), the others the default home.

#include <filesystem>
#include <optional>
#include <string>

namespace reco {

class Home {
 public:
  explicit Home(std::filesystem::path root, bool is_explicit = true)
      : root_(std::move(root)), explicit_(is_explicit) {}
  static Home resolve(const std::optional<std::string>& flag);

  const std::filesystem::path& root() const { return root_; }
  bool is_explicit() const { return explicit_; }  // from --home or $RECO_HOME
  bool exists() const;                            // the root is a directory
  std::filesystem::path warehouse_path() const { return root_ / "warehouse.db"; }
  std::filesystem::path models_dir() const { return root_ / "models"; }
  std::filesystem::path datasets_dir() const { return root_ / "datasets"; }
  void create() const;  // mkdir -p the root
  // Makes sure the home exists before use: a missing explicit home is an error naming it (a typo
  // would otherwise start an empty warehouse) unless `create`; the default home is created.
  // Returns true when it created the folder.
  bool prepare(bool create) const;

 private:
  std::filesystem::path root_;
  bool explicit_ = true;
};

}  // namespace reco
