#include <fmt/format.h>

#include "cli/context.h"
#include "cli/model_loading.h"
#include "cli/table_format.h"
#include "recommendation/top_n.h"

namespace reco::cli {

void register_recommend(Command& app, Context& ctx) {
  struct Options {
    std::string model;
    std::optional<int> version;
    int64_t user = 0;
    size_t k = 10;
  };
  auto o = std::make_shared<Options>();
  Command cmd =
      app.add_subcommand("recommend",
                         "Print a user's top-k items (not rated in training) with titles and "
                         "predicted ratings");
  cmd.option("-m,--model", o->model,
             "Model name, models:/NAME[/VERSION], file:// URI or artifact path")
      .required();
  cmd.option("--version", o->version, "Model version (default: latest)");
  cmd.option("-u,--user", o->user, "User id").required();
  cmd.option("-k,--top", o->k, "How many items").show_default().range(1, 10000);
  cmd.callback([o, &ctx] {
    const auto artifact = load_model(ctx, o->model, o->version);
    const algorithms::Model& model = *artifact.model;
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
