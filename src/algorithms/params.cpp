#include "algorithms/params.h"

#include <fmt/format.h>

#include "algorithms/algorithm.h"

namespace reco::algorithms {

Params parse_params(std::string_view algorithm,
                    const std::vector<std::pair<std::string, std::string>>& name_values) {
  const Algorithm& a = find_algorithm(algorithm);  // rejects unknown names
  Params params;
  params.algorithm_ = a.name;
  params.values_ = resolve_options(a.params, name_values, OptionStyle::kParameter, a.name);
  return params;
}

std::string params_help(std::string_view algorithm) {
  const Algorithm& a = find_algorithm(algorithm);
  return fmt::format("{}: {}\n", a.name, a.doc) + options_help(a.params);
}

std::string params_help_all() {
  std::string out;
  for (const Algorithm* a : all_algorithms()) {
    if (!out.empty()) out += "\n";
    out += params_help(a->name);
  }
  return out;
}

std::string params_markdown_all() {
  std::string out;
  for (const Algorithm* a : all_algorithms()) {
    if (!out.empty()) out += "\n";
    out += fmt::format("`{}`: {}\n\n", a->name, a->doc) + options_markdown(a->params, "parameter");
  }
  return out;
}

}  // namespace reco::algorithms
