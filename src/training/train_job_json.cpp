#include "core/json.h"

#include "training/train_job.h"

namespace reco::training {

nlohmann::json TrainSummary::to_json() const {
  using nlohmann::json;
  json timing = {{"read_s", timings.read},
                 {"fit_s", timings.fit},
                 {"top_n_s", timings.top_n},
                 {"write_s", timings.write},
                 {"total_s", timings.total}};
  if (folds > 0) timing["cv_s"] = timings.cv;
  if (!search.is_null()) timing["search_s"] = timings.search;
  json out = {
      {"job", job_id},
      {"model", model_name},
      {"version", version},
      {"artifact_uri", artifact_uri},
      {"algorithm", algorithm},
      {"input_table", input_table},
      {"output_table", output_table ? json(*output_table) : json(nullptr)},
      {"output_rows", output_rows},
      {"ratings", ratings},
      {"users", users},
      {"items", items},
      {"seed", seed},
      {"folds", folds},
      {"top_k", top_k},
      {"rmse", rmse ? json(*rmse) : json(nullptr)},
      {"mae", mae ? json(*mae) : json(nullptr)},
      {"timings", timing},
  };
  for (const auto& [key, value] : ranking) out[key] = value;
  if (!search.is_null()) out["search"] = search;
  return out;
}

}  // namespace reco::training
