#include "cli/table_format.h"

#include <algorithm>

#include "cli/table_printer.h"

namespace reco::cli {

std::string TextTable::render() const {
  std::vector<size_t> widths(header_.size(), 0);
  for (size_t c = 0; c < header_.size(); ++c) widths[c] = display_width(header_[c]);
  for (const auto& row : rows_) {
    for (size_t c = 0; c < row.size() && c < widths.size(); ++c)
      widths[c] = std::max(widths[c], display_width(row[c]));
  }
  auto is_right = [&](size_t c) {
    return std::find(right_.begin(), right_.end(), c) != right_.end();
  };
  auto line = [&](const std::vector<std::string>& cells, bool header) {
    std::string out;
    for (size_t c = 0; c < widths.size(); ++c) {
      const std::string cell = c < cells.size() ? cells[c] : "";
      const size_t pad = widths[c] - display_width(cell);
      if (c) out += " | ";
      if (is_right(c) && !header)
        out += std::string(pad, ' ') + cell;
      else
        out += cell + (c + 1 < widths.size() ? std::string(pad, ' ') : "");
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(header_, true);
  for (size_t c = 0; c < widths.size(); ++c) {
    if (c) out += "-+-";
    out += std::string(widths[c], '-');
  }
  out += "\n";
  for (const auto& row : rows_) out += line(row, false);
  return out;
}

}  // namespace reco::cli
