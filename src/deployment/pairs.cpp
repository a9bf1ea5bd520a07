#include "deployment/pairs.h"

#include <fmt/format.h>

#include "core/error.h"
#include "core/ids.h"

namespace reco::deployment {

namespace {

std::string shown(std::string_view s) {
  return s.size() > 40 ? std::string(s.substr(0, 40)) + "..." : std::string(s);
}

}  // namespace

std::vector<IdPair> parse_pairs_csv(std::string_view body, const std::string& source) {
  if (body.empty())
    throw Error(
        ErrorKind::kInput,
        fmt::format("{}: empty body: expected one user_id,item_id record per line", source));
  std::vector<IdPair> out;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos)
      throw Error(ErrorKind::kInput,
                  fmt::format("{}:{}:1: blank line: every line must be a user_id,item_id record",
                              source, line_no));
    int64_t ids[2] = {0, 0};
    size_t field = 0, col = 0;
    for (;;) {
      const size_t comma = line.find(',', col);
      const std::string_view raw =
          line.substr(col, comma == std::string_view::npos ? std::string_view::npos : comma - col);
      if (field >= 2)
        throw Error(ErrorKind::kInput,
                    fmt::format("{}:{}:{}: too many fields: expected 2 (user_id,item_id)", source,
                                line_no, col + 1));
      std::string_view value = raw;
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      const auto id = id_from_text(value);
      if (!id)
        throw Error(ErrorKind::kInput,
                    fmt::format("{}:{}:{}: {} '{}' is not an integer id", source, line_no, col + 1,
                                field == 0 ? "user_id" : "item_id", shown(raw)));
      ids[field++] = *id;
      if (comma == std::string_view::npos) break;
      col = comma + 1;
    }
    if (field != 2)
      throw Error(ErrorKind::kInput,
                  fmt::format("{}:{}:{}: only one field: expected 2 (user_id,item_id)", source,
                              line_no, line.size() + 1));
    out.emplace_back(ids[0], ids[1]);
  }
  return out;
}

}  // namespace reco::deployment
