#include <fmt/format.h>

#include "cli/context.h"
#include "cli/model_loading.h"
#include "cli/table_format.h"
#include "recommendation/top_n.h"

namespace reco::cli {

void register_recommend(CLI::App& app, Context& ctx) {
  struct Options {
    std::string model;
    std::optional<int> version;
    int64_t user = 0;
    size_t k = 10;
  };
  auto o = std::make_shared<Options>();
  auto* cmd =
      app.add_subcommand("recommend",
                         "Print a user's top-k items (not rated in training) with titles and "
                         "predicted ratings");
  cmd->add_option("-m,--model", o->model,
                  "Model name, models:/NAME[/VERSION], file:// URI or artifact path")
      ->required();
  cmd->add_option("--version", o->version, "Model version (default: latest)");
  cmd->add_option("-u,--user", o->user, "User id")->required();
  cmd->add_option("-k,--top", o->k, "How many items")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  cmd->callback([o, &ctx] {
    const auto artifact = load_model(ctx, o->model, o->version);
    const auto& model = artifact.model;
    const auto top = recommendation::top_n_for_user(model, o->user, o->k);
    std::vector<int64_t> ids;
    for (const auto& s : top) ids.push_back(model.items.raw(s.item));
    const auto titles = movie_titles(ctx, ids);
    if (model.users.find(o->user) < 0) {
      fmt::print(stderr,
                 "note: user {} is not in the model's training data; ranking by item biases only\n",
                 o->user);
    }
    TextTable table({"rank", "movieid", "predicted", "title"});
    table.right_align({0, 1, 2});
    for (size_t r = 0; r < top.size(); ++r) {
      const int64_t id = ids[r];
      auto t = titles.find(id);
      table.add({std::to_string(r + 1), std::to_string(id),
                 fmt::format("{:.3f}", model.clip(top[r].score)),
                 t == titles.end() ? "" : t->second});
    }
    fmt::print("{}", table.render());
  });
}

}  // namespace reco::cli
