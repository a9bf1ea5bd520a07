#include "evaluation/split.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <unordered_map>

#include <fmt/format.h>

#include "algorithms/training_set.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/random.h"

namespace reco::evaluation {

namespace {

constexpr std::pair<SplitSpec::Kind, const char*> kKinds[] = {
    {SplitSpec::Kind::kKFold, "kfold"},
    {SplitSpec::Kind::kStratified, "stratified"},
    {SplitSpec::Kind::kLastN, "last_n"},
    {SplitSpec::Kind::kFiles, "files"}};

std::span<const uint32_t> only_fold(const std::vector<uint32_t>& part, int fold) {
  if (fold != 0) throw Error(ErrorKind::kInternal, fmt::format("fold {} of a single split", fold));
  return part;
}

}  // namespace

SplitSpec::Kind SplitSpec::parse_kind(std::string_view name) {
  for (const auto& [kind, text] : kKinds) {
    if (name == text) return kind;
  }
  throw Error(
      ErrorKind::kUsage,
      fmt::format("split: '{}' is not a split kind (kfold, stratified, last_n or files)", name));
}

const char* SplitSpec::name(Kind kind) {
  for (const auto& [k, text] : kKinds) {
    if (k == kind) return text;
  }
  return "?";
}

std::vector<std::string> split_path_list(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view part = text.substr(start, end - start);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (!part.empty()) out.emplace_back(part);
    start = end + 1;
  }
  return out;
}

StratifiedSplit::StratifiedSplit(const Dataset& data, double test_ratio, uint64_t seed) {
  if (!(test_ratio > 0.0 && test_ratio < 1.0)) {
    throw Error(ErrorKind::kUsage,
                fmt::format("test_ratio: {} is out of range (0, 1)", test_ratio));
  }
  // Each user's rating numbers in input order, then shuffled with one generator in user order.
  std::vector<std::vector<uint32_t>> by_user(data.n_users());
  for (uint32_t k = 0; k < data.size(); ++k) by_user[data.user[k]].push_back(k);
  Rng rng(seed, algorithms::rng_stream::kFoldShuffle);
  for (auto& ratings : by_user) {
    rng.shuffle(ratings);
    const size_t n = ratings.size();
    const auto keep =
        static_cast<size_t>(std::llround((1.0 - test_ratio) * static_cast<double>(n)));
    train_.insert(train_.end(), ratings.begin(), ratings.begin() + static_cast<ptrdiff_t>(keep));
    test_.insert(test_.end(), ratings.begin() + static_cast<ptrdiff_t>(keep), ratings.end());
  }
  std::sort(train_.begin(), train_.end());
  std::sort(test_.begin(), test_.end());
  if (test_.empty() || train_.empty()) {
    throw Error(ErrorKind::kInput,
                fmt::format("a stratified split with test_ratio {} holds out {} of {} ratings: "
                            "each user needs more ratings",
                            test_ratio, test_.size(), data.size()));
  }
}

std::span<const uint32_t> StratifiedSplit::test_indices(int fold) const {
  return only_fold(test_, fold);
}

std::vector<uint32_t> StratifiedSplit::train_indices(int fold) const {
  const auto part = only_fold(train_, fold);
  return {part.begin(), part.end()};
}

LastNSplit::LastNSplit(const Dataset& data, int n) {
  if (n < 1) throw Error(ErrorKind::kUsage, fmt::format("test_n: {} is out of range (1..)", n));
  if (data.timestamp.size() != data.size()) {
    throw Error(ErrorKind::kInternal, "a last_n split needs the ratings' timestamps");
  }
  std::vector<std::vector<uint32_t>> by_user(data.n_users());
  for (uint32_t k = 0; k < data.size(); ++k) by_user[data.user[k]].push_back(k);
  const auto count = static_cast<size_t>(n);
  for (auto& ratings : by_user) {
    // Oldest first; equal times in input order (the later row is the more recent).
    std::stable_sort(ratings.begin(), ratings.end(),
                     [&](uint32_t a, uint32_t b) { return data.timestamp[a] < data.timestamp[b]; });
    const size_t keep = ratings.size() > count ? ratings.size() - count : ratings.size();
    train_.insert(train_.end(), ratings.begin(), ratings.begin() + static_cast<ptrdiff_t>(keep));
    test_.insert(test_.end(), ratings.begin() + static_cast<ptrdiff_t>(keep), ratings.end());
  }
  std::sort(train_.begin(), train_.end());
  std::sort(test_.begin(), test_.end());
  if (test_.empty()) {
    throw Error(ErrorKind::kInput,
                fmt::format("a last_n split with test_n {} holds out nothing: no user has more "
                            "than {} ratings",
                            n, n));
  }
}

std::span<const uint32_t> LastNSplit::test_indices(int fold) const {
  return only_fold(test_, fold);
}

std::vector<uint32_t> LastNSplit::train_indices(int fold) const {
  const auto part = only_fold(train_, fold);
  return {part.begin(), part.end()};
}

namespace {

// The rating numbers named by one fold file, in file order.
class FoldFileReader {
 public:
  explicit FoldFileReader(const Dataset& data) : data_(data) {
    pairs_.reserve(data.size());
    for (uint32_t k = 0; k < data.size(); ++k) pairs_.emplace(key(data.user[k], data.item[k]), k);
  }

  // The rating numbers of the file's lines; line_of[k] is the line of rating k (0: absent).
  std::vector<uint32_t> read(const std::string& path, std::vector<uint32_t>& line_of) const {
    std::ifstream in(path);
    if (!in) {
      throw Error(ErrorKind::kNotFound,
                  fmt::format("split file '{}' cannot be read (check the path; relative paths "
                              "are from the working directory of reco)",
                              path));
    }
    line_of.assign(data_.size(), 0);
    std::vector<uint32_t> out;
    std::string line;
    uint32_t number = 0;
    while (std::getline(in, line)) {
      ++number;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      const auto [user_text, item_text] = first_two_fields(line);
      const auto user = id_from_text(user_text);
      const auto item = id_from_text(item_text);
      if (!user || !item) {
        if (number == 1 && !user) continue;  // a header line
        throw Error(ErrorKind::kInput,
                    fmt::format("split file '{}', line {}: {} is not an integer id", path, number,
                                !user ? "field 1 (the user)" : "field 2 (the item)"));
      }
      const int64_t u = data_.users.find(*user), i = data_.items.find(*item);
      if (u < 0 || i < 0) {
        throw Error(ErrorKind::kInput,
                    fmt::format("split file '{}', line {}: {} {} is not in the input table", path,
                                number, u < 0 ? "user" : "item", u < 0 ? *user : *item));
      }
      const auto it = pairs_.find(key(static_cast<uint32_t>(u), static_cast<uint32_t>(i)));
      if (it == pairs_.end()) {
        throw Error(ErrorKind::kInput,
                    fmt::format("split file '{}', line {}: user {} has not rated item {} in the "
                                "input table",
                                path, number, *user, *item));
      }
      if (line_of[it->second] != 0) {
        throw Error(ErrorKind::kInput,
                    fmt::format("split file '{}', line {}: user {} and item {} are on line {} "
                                "already",
                                path, number, *user, *item, line_of[it->second]));
      }
      line_of[it->second] = number;
      out.push_back(it->second);
    }
    if (out.empty()) {
      throw Error(ErrorKind::kInput, fmt::format("split file '{}' names no rating", path));
    }
    return out;
  }

 private:
  static uint64_t key(uint32_t user, uint32_t item) { return (uint64_t{user} << 32) | item; }

  static std::pair<std::string_view, std::string_view> first_two_fields(std::string_view line) {
    auto is_sep = [](char c) { return c == '\t' || c == ',' || c == ';' || c == '|' || c == ' '; };
    std::string_view fields[2];
    size_t pos = 0;
    for (auto& field : fields) {
      while (pos < line.size() && line[pos] == ' ') ++pos;
      size_t end = pos;
      while (end < line.size() && !is_sep(line[end])) ++end;
      field = line.substr(pos, end - pos);
      pos = end;
      while (pos < line.size() && line[pos] == ' ') ++pos;
      if (pos < line.size() && is_sep(line[pos])) ++pos;
    }
    return {fields[0], fields[1]};
  }

  const Dataset& data_;
  std::unordered_map<uint64_t, uint32_t> pairs_;
};

}  // namespace

FileSplit::FileSplit(const Dataset& data, const std::vector<std::string>& train_files,
                     const std::vector<std::string>& test_files) {
  if (train_files.empty() || train_files.size() != test_files.size()) {
    throw Error(ErrorKind::kUsage,
                fmt::format("split files: {} train_files and {} test_files; give one of each per "
                            "fold (at least one)",
                            train_files.size(), test_files.size()));
  }
  const FoldFileReader reader(data);
  std::vector<uint32_t> train_line, test_line;
  for (size_t f = 0; f < train_files.size(); ++f) {
    train_.push_back(reader.read(train_files[f], train_line));
    test_.push_back(reader.read(test_files[f], test_line));
    for (uint32_t k : test_.back()) {
      if (train_line[k] != 0) {
        throw Error(ErrorKind::kInput,
                    fmt::format("split file '{}', line {}: user {} and item {} are also in the "
                                "training file '{}' (line {}) of the same fold",
                                test_files[f], test_line[k], data.users.raw(data.user[k]),
                                data.items.raw(data.item[k]), train_files[f], train_line[k]));
      }
    }
  }
}

std::span<const uint32_t> FileSplit::test_indices(int fold) const {
  return test_.at(static_cast<size_t>(fold));
}

std::vector<uint32_t> FileSplit::train_indices(int fold) const {
  return train_.at(static_cast<size_t>(fold));
}

std::unique_ptr<Split> make_split(const SplitSpec& spec, const Dataset& data, uint64_t seed) {
  switch (spec.kind) {
    case SplitSpec::Kind::kStratified:
      return std::make_unique<StratifiedSplit>(data, spec.test_ratio, seed);
    case SplitSpec::Kind::kLastN:
      return std::make_unique<LastNSplit>(data, spec.test_n);
    case SplitSpec::Kind::kFiles:
      return std::make_unique<FileSplit>(data, spec.train_files, spec.test_files);
    case SplitSpec::Kind::kKFold:
      break;
  }
  return std::make_unique<KFold>(data.size(), spec.folds, seed);
}

}  // namespace reco::evaluation
