#pragma once
// The ratings a model is trained on, in two forms:
//  - RawRatings: what a table or file holds (external ids, input order);
//  - Dataset: dense 0-based indices for users and items plus the id maps, one shared copy that
//    training, cross-validation folds and top-N all index into.

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace reco {

struct RawRatings {
  std::vector<int64_t> users;
  std::vector<int64_t> items;
  std::vector<float> ratings;
  std::vector<int64_t> timestamps;  // empty unless asked for (the last_n split orders by them)

  size_t size() const { return ratings.size(); }
  void reserve(size_t n) {
    users.reserve(n);
    items.reserve(n);
    ratings.reserve(n);
  }
  void push_back(int64_t user, int64_t item, float rating) {
    users.push_back(user);
    items.push_back(item);
    ratings.push_back(rating);
  }
};

// Maps external ids to dense indices in order of first appearance.
class IdIndex {
 public:
  uint32_t intern(int64_t raw);  // returns the dense index, adding the id if new
  // Dense index of raw, or -1 when unknown.
  int64_t find(int64_t raw) const {
    auto it = index_.find(raw);
    return it == index_.end() ? -1 : static_cast<int64_t>(it->second);
  }
  int64_t raw(uint32_t dense) const { return raw_[dense]; }
  const std::vector<int64_t>& raw_ids() const { return raw_; }
  uint32_t size() const { return static_cast<uint32_t>(raw_.size()); }
  static IdIndex from_raw_ids(std::vector<int64_t> raw_ids);  // raw_ids must be distinct

 private:
  std::vector<int64_t> raw_;
  std::unordered_map<int64_t, uint32_t> index_;
};

struct RatingScale {
  float min = 0.5f;
  float max = 5.0f;
};

// Ratings with dense ids. Rating k is (user[k], item[k], rating[k]), in input order.
struct Dataset {
  IdIndex users;
  IdIndex items;
  std::vector<uint32_t> user;
  std::vector<uint32_t> item;
  std::vector<float> rating;
  std::vector<int64_t> timestamp;  // empty unless the raw ratings carried them

  size_t size() const { return rating.size(); }
  uint32_t n_users() const { return users.size(); }
  uint32_t n_items() const { return items.size(); }

  // Dense ids are assigned in order of first appearance. Throws reco::Error(kInput) naming the
  // first duplicate (user, item) pair: a pair must be rated once.
  static Dataset from_raw(const RawRatings& raw);
  // Stable 64-bit fingerprint of the (user, item, rating) triples in order.
  uint64_t fingerprint() const;
  RatingScale observed_scale() const;
};

}  // namespace reco
