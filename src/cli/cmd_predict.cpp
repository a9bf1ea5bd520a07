#include <fmt/format.h>

#include "cli/context.h"
#include "cli/model_loading.h"

namespace reco::cli {

void register_predict(CLI::App& app, Context& ctx) {
  struct Options {
    std::string model;
    std::optional<int> version;
    int64_t user = 0;
    int64_t item = 0;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("predict", "Predict the rating a user would give an item");
  cmd->add_option("-m,--model", o->model,
                  "Model name, models:/NAME[/VERSION], file:// URI or artifact path")
      ->required();
  cmd->add_option("--version", o->version, "Model version (default: latest)");
  cmd->add_option("user", o->user, "User id")->required();
  cmd->add_option("item", o->item, "Item id")->required();
  cmd->callback([o, &ctx] {
    const auto artifact = load_model(ctx, o->model, o->version);
    fmt::print("{}\n", artifact.model.predict(o->user, o->item));
  });
}

}  // namespace reco::cli
