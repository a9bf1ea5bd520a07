#pragma once
// Aligned text tables for command output (psql-like): header, dashes, rows.

#include <string>
#include <vector>

namespace reco::cli {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}
  void right_align(std::vector<size_t> columns) { right_ = std::move(columns); }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string render() const;

 private:
  std::vector<std::string> header_;
  std::vector<size_t> right_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace reco::cli
