#include <string>

#include <fmt/format.h>

#include "cli/context.h"
#include "cli/model_loading.h"
#include "cli/table_format.h"
#include "core/json.h"
#include "recommendation/top_n.h"

namespace reco::cli {
namespace {

// A float score as the double with the same shortest digits (5.4321f prints as 5.4321, not
// 5.432099819183350).
double shortest(float score) {
  return std::stod(fmt::format("{}", score));
}

}  // namespace

void register_recommend(Command& app, Context& ctx) {
  struct Options {
    std::string model;
    std::optional<int> version;
    int64_t user = 0;
    size_t k = 10;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  Command cmd =
      app.add_subcommand("recommend",
                         "Print a user's top-k items (not rated in training) with titles, "
                         "predicted ratings and the scores that rank them");
  cmd.option("-m,--model", o->model,
             "Model name, models:/NAME[/VERSION], file:// URI or artifact path")
      .required();
  cmd.option("--version", o->version, "Model version (default: latest)");
  cmd.option("-u,--user", o->user, "User id").required();
  cmd.option("-k,--top", o->k, "How many items").show_default().range(1, 10000);
  cmd.flag("--json", o->json,
           "Print a JSON object (user, known_user, recommendations: rank, movieid, predicted, "
           "score, title) instead of a table");
  cmd.footer(
      "predicted is the rating the model predicts, clipped to the rating scale (what "
      "invoke_model returns); score is the unclipped estimate the ranking uses, so items that "
      "all predict the top of the scale still show their order. The ranking models (ials, bpr, "
      "ease) predict no ratings: for them predicted is the score itself.\n");
  cmd.callback([o, &ctx] {
    const auto artifact = load_model(ctx, o->model, o->version);
    const algorithms::Model& model = *artifact.model;
    const auto top = recommendation::top_n_for_user(model, o->user, o->k);
    std::vector<int64_t> ids;
    for (const auto& s : top) ids.push_back(model.items.raw(s.item));
    const auto titles = movie_titles(ctx, ids);
    const bool known = model.users.find(o->user) >= 0;
    if (!known && !ctx.options.quiet) {
      fmt::print(stderr,
                 "note: user {} is not in the model's training data; ranking by item biases only\n",
                 o->user);
    }
    const auto title_of = [&titles](int64_t id) {
      auto t = titles.find(id);
      return t == titles.end() ? std::string() : t->second;
    };
    if (o->json) {
      nlohmann::json items = nlohmann::json::array();
      for (size_t r = 0; r < top.size(); ++r) {
        items.push_back({{"rank", r + 1},
                         {"movieid", ids[r]},
                         {"predicted", model.clip(shortest(top[r].score))},
                         {"score", shortest(top[r].score)},
                         {"title", title_of(ids[r])}});
      }
      const nlohmann::json out = {
          {"user", o->user}, {"known_user", known}, {"recommendations", std::move(items)}};
      fmt::print("{}\n", json_text_lenient(out));
      return;
    }
    TextTable table({"rank", "movieid", "predicted", "score", "title"});
    table.right_align({0, 1, 2, 3});
    for (size_t r = 0; r < top.size(); ++r) {
      table.add({std::to_string(r + 1), std::to_string(ids[r]),
                 fmt::format("{:.3f}", model.clip(top[r].score)),
                 fmt::format("{:.4f}", top[r].score), title_of(ids[r])});
    }
    fmt::print("{}", table.render());
  });
}

}  // namespace reco::cli
