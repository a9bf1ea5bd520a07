#pragma once
// The model artifact: one trained model plus a metadata JSON object in a versioned, checksummed,
// portable binary file (`model.reco`). The byte layout is specified in docs/ARTIFACT_FORMAT.md:
// this file owns the framing (magic, metadata, algorithm name, alignment, padding, checksum,
// every bounds check); the model's type (algorithms::ModelType, found through the algorithm
// registry by the algorithm name) says what its model header and arrays hold.
//
// Guarantees:
//  - the same model and metadata encode to the same bytes on every platform (explicit
//    little-endian encoding, sorted metadata keys, zeroed padding);
//  - a reader never trusts a count before it has checked it against the file size, so a damaged
//    file gives Error(kCorrupt) naming the file and the problem, never a crash or a huge
//    allocation; wrong magic, a newer format, truncation, a checksum mismatch and inconsistent
//    counts each have their own message.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include <memory>

#include <nlohmann/json_fwd.hpp>

#include "algorithms/model.h"

namespace reco::registry {

inline constexpr uint32_t kArtifactFormatVersion = 1;  // highest version this reader supports
inline constexpr std::string_view kArtifactMagic{"RECOMDL\0", 8};
inline constexpr std::string_view kArtifactEndMagic{"RECOEND\0", 8};
inline constexpr uint64_t kArtifactAlignment = 64;  // every array starts at a multiple of this

struct Artifact {
  std::shared_ptr<const algorithms::Model> model;
  std::string metadata;  // a JSON object, as stored
};

// What can be learned from the front of an artifact without reading the parameters: the
// metadata and the model's shape. The checksum is NOT verified (it covers the whole file);
// the file size is checked against the sizes the header implies, so truncation is detected.
struct ArtifactHeader {
  uint32_t format_version = 0;
  uint64_t file_size = 0;
  std::string metadata;  // a JSON object, as stored
  std::string algorithm;
  std::string model_type;  // "factor", ...
  algorithms::ModelShape shape;
};

// Throws Error(kInternal) if the model fails validate(), Error(kInput) if the metadata is not a
// JSON object or holds strings that are not valid UTF-8.
std::string encode_artifact(const algorithms::Model& model, const nlohmann::json& metadata);
// source_name (usually the file path) starts every error message.
Artifact decode_artifact(std::string_view bytes, const std::string& source_name);

// Atomic (temporary name + rename): readers see the old file or the new one, never a mix.
void write_artifact(const std::filesystem::path& path, const algorithms::Model& model,
                    const nlohmann::json& metadata);
// Throws Error(kNotFound) if the file does not exist, Error(kCorrupt) if it is damaged.
Artifact read_artifact(const std::filesystem::path& path);

// Reads only the header and metadata (a few hundred bytes for typical metadata).
ArtifactHeader read_artifact_header(const std::filesystem::path& path);
std::string read_artifact_metadata(const std::filesystem::path& path);

// The `created_at` value for new metadata: the current time as RFC 3339 UTC
// ("2024-05-01T12:34:56Z"), or $SOURCE_DATE_EPOCH when set so rebuilt artifacts are
// byte-identical. Throws Error(kUsage) if SOURCE_DATE_EPOCH is not a non-negative integer.
std::string artifact_timestamp();

}  // namespace reco::registry
