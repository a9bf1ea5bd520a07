#pragma once
// A trained model, whatever algorithm made it. Cross-validation, top-N, the artifact and
// serving use only this interface, so a model that is not a plain factor model (a neighbourhood
// model, SVD++ with implicit feedback, a blend) plugs into all of them without new branches:
//  - estimate(u, i): the unclipped estimate of one pair, from dense indices (-1: unknown);
//  - score_block(): the estimates of a block of items for a block of users, as float, equal to
//    (float)estimate(u, i) bit for bit (top-N ranks by them);
//  - type(): how the model is stored in an artifact (ModelType below).
// What every model has in common lives here: the algorithm's name, the rating scale, the id
// maps of the users and items seen in training, and the items each user rated (top-N excludes
// them).

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/ratings.h"

namespace reco::algorithms {

struct ModelType;

class Model {
 public:
  virtual ~Model() = default;

  std::string algorithm;  // the registered algorithm that made it ("svd", "baseline", ...)
  RatingScale scale;
  // A ranking model's estimate is a score, not a rating (Algorithm::predicts_ratings false):
  // clip() and predict() return it as it is. Set by algorithms::fit() and the artifact reader.
  bool ranking_scores = false;
  IdIndex users;  // users seen in training (dense index = position)
  IdIndex items;  // items seen in training
  // Items each user rated in training (CSR by dense user; dense item ids ascending).
  std::vector<uint64_t> rated_offsets;  // n_users + 1
  std::vector<uint32_t> rated_items;

  uint32_t n_users() const { return users.size(); }
  uint32_t n_items() const { return items.size(); }
  std::span<const uint32_t> rated_by(uint32_t u) const {
    return {rated_items.data() + rated_offsets[u], rated_items.data() + rated_offsets[u + 1]};
  }

  // Unclipped estimate from dense indices; -1 means unknown (each model documents its fallback).
  virtual double estimate(int64_t user, int64_t item) const = 0;
  // The estimate clipped to the rating scale (a ranking model's score unchanged).
  double clip(double estimate) const;
  // Clipped prediction for external ids.
  double predict(int64_t raw_user, int64_t raw_item) const {
    return clip(estimate(users.find(raw_user), items.find(raw_item)));
  }

  // Unclipped estimates, as float, of items [first, first + count) for the known users
  // `users`: out[t * ld + j] = (float)estimate(users[t], first + j). The default calls
  // estimate() per pair; models override it with blocked kernels.
  virtual void score_block(std::span<const uint32_t> users, uint32_t first, uint32_t count,
                           float* out, size_t ld) const;
  // The same for a user the model does not know: out[j] = (float)estimate(-1, first + j).
  virtual void score_unknown_user(uint32_t first, uint32_t count, float* out) const;

  // Checks internal consistency (sizes, ranges, finite values); throws Error(kCorrupt) naming
  // the field. Overrides check their own fields and call Model::validate().
  virtual void validate() const;

  virtual const ModelType& type() const = 0;

 protected:
  // The parts of validate() every model shares: the name and the scale; the rated-items index.
  void validate_identity() const;
  void validate_rated() const;
};

// What every model type stores the same way: the user and item ids (i64 each) and the rated-items
// index (u64 offsets, n_users + 1; u32 items), into or from four of a type's arrays.
void store_identity_arrays(const Model& model, char* users, char* items, char* offsets,
                           char* rated);
void load_identity_arrays(Model& model, std::string_view users, std::string_view items,
                          std::string_view offsets, std::string_view rated);

// Numbers a listing shows without loading a model: read from the artifact's model header.
struct ModelShape {
  uint32_t n_users = 0;
  uint32_t n_items = 0;
  uint32_t n_factors = 0;  // 0 for models without latent factors
  uint64_t n_ratings = 0;  // training ratings (the rated-items index)
};

// How models of one type are stored in an artifact (docs/ARTIFACT_FORMAT.md): after the
// algorithm name comes a fixed-size model header, then arrays, each starting at a multiple of
// 64 bytes from the file start. The artifact code owns the framing (magic, metadata, padding,
// checksum, every bounds check); a model type only says what its header holds and which arrays
// follow. All numbers are little-endian (core/binary.h).
struct ModelType {
  std::string name;          // "factor"
  uint64_t header_size = 0;  // bytes of the model header

  // The byte size of each array the header describes, in file order; nullopt when the counts
  // overflow 64 bits. `header` holds header_size bytes.
  std::optional<std::vector<uint64_t>> (*array_sizes)(const char* header) = nullptr;
  // The header's counts for messages: "n_users=2, n_items=3, n_factors=2, n_rated=3".
  std::string (*describe)(const char* header) = nullptr;
  // Header fields that do not affect the layout (flags, reserved words): "" when they are
  // valid, otherwise the problem, naming the field and its offset in the file (the header
  // starts at `offset`); the artifact code adds the file name.
  std::string (*check_header)(const char* header, uint64_t offset) = nullptr;
  ModelShape (*shape)(const char* header) = nullptr;

  // Writing: the header (header_size bytes), then each array into the region the layout gave
  // it (regions are as large as array_sizes says; padding is zeroed by the caller).
  std::string (*encode_header)(const Model& model) = nullptr;
  void (*encode_arrays)(const Model& model, std::span<char* const> arrays) = nullptr;
  // Reading: a model from its header and arrays (validated afterwards by the caller).
  std::unique_ptr<Model> (*decode)(std::string algorithm, const char* header,
                                   std::span<const std::string_view> arrays) = nullptr;
};

}  // namespace reco::algorithms
