#include "registry/artifact.h"
#include "core/json.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "algorithms/algorithm.h"
#include "core/binary.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/hash.h"

namespace reco::registry {
namespace {

namespace fs = std::filesystem;
using algorithms::Model;
using algorithms::ModelType;
using binary::align_up;
using binary::checked_add;
using binary::load_u32;
using binary::load_u64;
using binary::store_u32;
using binary::store_u64;
using nlohmann::json;

// Sizes from docs/ARTIFACT_FORMAT.md.
constexpr uint64_t kPreambleSize = 24;  // magic, format_version, flags, metadata_length
constexpr uint64_t kTrailerSize = 20;   // payload_length, crc32, end magic
constexpr uint32_t kMaxAlgorithmNameLength = 255;
// Metadata is a JSON object reco writes (parameters, CV report): far below this.
constexpr uint64_t kMaxMetadataLength = 64ull << 20;

struct Region {
  uint64_t offset = 0;
  uint64_t size = 0;
  uint64_t end() const { return offset + size; }
};

// Where everything is. The model header's size and the arrays' sizes come from the model type.
struct Layout {
  Region metadata;
  uint64_t name_length_field = 0;  // the u32 algorithm name length
  Region name;
  Region model_header;
  std::vector<Region> arrays;
  uint64_t trailer = 0;
  uint64_t total = 0;

  // Every byte-carrying region in file order; the gaps between them are zero padding.
  std::vector<Region> regions() const {
    std::vector<Region> r = {Region{0, kPreambleSize}, metadata, Region{name_length_field, 4}, name,
                             model_header};
    r.insert(r.end(), arrays.begin(), arrays.end());
    r.push_back(Region{trailer, kTrailerSize});
    return r;
  }
};

std::optional<uint64_t> name_length_offset(uint64_t metadata_length) {
  return align_up(checked_add(kPreambleSize, metadata_length), 8);
}
std::optional<uint64_t> model_header_offset(uint64_t name_length_field, uint32_t name_length) {
  return align_up(checked_add(checked_add(name_length_field, 4), name_length), 8);
}

// The layout given the counts; nullopt when it would not fit 64 bits.
std::optional<Layout> make_layout(uint64_t metadata_length, uint32_t name_length,
                                  uint64_t header_size,
                                  const std::optional<std::vector<uint64_t>>& array_sizes) {
  Layout l;
  l.metadata = {kPreambleSize, metadata_length};
  const auto a = name_length_offset(metadata_length);
  const auto b = a ? model_header_offset(*a, name_length) : std::nullopt;
  if (!b || !array_sizes) return std::nullopt;
  l.name_length_field = *a;
  l.name = {*a + 4, name_length};
  l.model_header = {*b, header_size};
  std::optional<uint64_t> cursor = checked_add(*b, header_size);
  // Each array starts at the next 64-byte boundary, empty ones included, so offsets depend only
  // on the counts.
  for (const uint64_t bytes : *array_sizes) {
    const auto start = align_up(cursor, kArtifactAlignment);
    cursor = checked_add(start, bytes);
    if (!cursor) return std::nullopt;
    l.arrays.push_back({*start, bytes});
  }
  const auto trailer = align_up(cursor, 8);
  const auto total = checked_add(trailer, kTrailerSize);
  if (!total) return std::nullopt;
  l.trailer = *trailer;
  l.total = *total;
  return l;
}

Error corrupt(const std::string& message) {
  return Error(ErrorKind::kCorrupt, message);
}

const ModelType& model_type_of(std::string_view algorithm_name) {
  return *algorithms::find_algorithm(algorithm_name).model_type;
}

// Magic, format version and flags. `prefix` is the first min(file_size, 24) bytes.
void check_preamble(std::string_view prefix, uint64_t file_size, const std::string& source) {
  const size_t m = std::min<size_t>(prefix.size(), kArtifactMagic.size());
  if (prefix.substr(0, m) != kArtifactMagic.substr(0, m)) {
    throw corrupt(fmt::format(
        "{}: not a reco model artifact (it does not start with the magic bytes \"RECOMDL\\0\")",
        source));
  }
  if (file_size < kPreambleSize) {
    throw corrupt(fmt::format(
        "{}: artifact is truncated: expected at least {} bytes (the fixed header), file has {} "
        "bytes",
        source, kPreambleSize, file_size));
  }
  const uint32_t version = load_u32(prefix.data() + 8);
  if (version > kArtifactFormatVersion) {
    throw corrupt(fmt::format(
        "{}: artifact format version {} is newer than this reco supports (max {}); upgrade reco",
        source, version, kArtifactFormatVersion));
  }
  if (version == 0) {
    throw corrupt(
        fmt::format("{}: invalid artifact format version 0 (versions start at 1)", source));
  }
  const uint32_t flags = load_u32(prefix.data() + 12);
  if (flags != 0) {
    throw corrupt(
        fmt::format("{}: unknown artifact header flags 0x{:08x} (format version {} defines none)",
                    source, flags, version));
  }
}

struct Header {
  uint32_t version = 0;
  uint64_t metadata_length = 0;
  std::string algorithm;
  const ModelType* type = nullptr;
  std::string model_header;  // type->header_size bytes
  Layout layout;

  std::string describe() const {
    return fmt::format("metadata_length={}, algorithm name length={}, {}", metadata_length,
                       algorithm.size(), type->describe(model_header.data()));
  }
};

// Bytes [0, n) of the file are needed; nullopt while `data` is too short but the file may hold
// them (read_artifact_header then reads more).
using Need = std::function<void(std::optional<uint64_t> end, const char* what)>;

// Reads the header from `data`, the first bytes of a file of `file_size` bytes; `data` holds
// either the whole file or at least everything up to the end of the model header.
// `length_verified`: the trailer confirmed the file is complete, so a field beyond the end is
// an inconsistency rather than truncation.
Header parse_header(std::string_view data, uint64_t file_size, const std::string& source,
                    bool length_verified) {
  auto need = [&](std::optional<uint64_t> end, const char* what) {
    if (!end) {
      throw corrupt(fmt::format(
          "{}: inconsistent counts: the {} lies beyond any possible file size", source, what));
    }
    if (*end <= data.size()) return;
    if (length_verified) {
      throw corrupt(
          fmt::format("{}: inconsistent counts: the {} ends at byte {} but the file has {} bytes",
                      source, what, *end, file_size));
    }
    throw corrupt(
        fmt::format("{}: artifact is truncated: expected at least {} bytes, file has {} bytes",
                    source, *end, file_size));
  };
  Header h;
  h.version = load_u32(data.data() + 8);
  h.metadata_length = load_u64(data.data() + 16);
  const auto name_field = name_length_offset(h.metadata_length);
  need(checked_add(name_field, 4), "algorithm name length field (after the metadata)");
  const uint32_t name_length = load_u32(data.data() + *name_field);
  if (name_length == 0 || name_length > kMaxAlgorithmNameLength) {
    throw corrupt(fmt::format(
        "{}: inconsistent counts: algorithm name length {} at offset {} is outside 1..{}", source,
        name_length, *name_field, kMaxAlgorithmNameLength));
  }
  const auto header_at = model_header_offset(*name_field, name_length);
  need(header_at, "algorithm name");
  h.algorithm = std::string(data.substr(*name_field + 4, name_length));
  try {
    h.type = &model_type_of(h.algorithm);
  } catch (const Error&) {
    std::string known;
    for (const auto& n : algorithms::algorithm_names()) known += (known.empty() ? "" : ", ") + n;
    throw corrupt(fmt::format(
        "{}: the model was made by algorithm '{}', which this reco does not know (it knows {}); "
        "it was written by another reco, or the file is damaged",
        source, h.algorithm, known));
  }
  need(checked_add(header_at, h.type->header_size), "model header");
  h.model_header = std::string(data.substr(*header_at, h.type->header_size));
  const auto layout = make_layout(h.metadata_length, name_length, h.type->header_size,
                                  h.type->array_sizes(h.model_header.data()));
  if (!layout) {
    throw corrupt(fmt::format("{}: inconsistent counts: {} describe more than 2^64 bytes", source,
                              h.describe()));
  }
  h.layout = *layout;
  return h;
}

// Checks of header fields that do not affect where things are. Run once the size is known good.
void check_header_fields(const Header& h, std::string_view data, const std::string& source) {
  const std::string problem =
      h.type->check_header(h.model_header.data(), h.layout.model_header.offset);
  if (!problem.empty()) throw corrupt(fmt::format("{}: {}", source, problem));
  // data may be a prefix: check the padding it covers.
  const auto regions = h.layout.regions();
  for (size_t r = 0; r + 1 < regions.size(); ++r) {
    const uint64_t from = regions[r].end(),
                   to = std::min<uint64_t>(regions[r + 1].offset, data.size());
    for (uint64_t p = from; p < to; ++p) {
      if (data[p] != 0) {
        throw corrupt(fmt::format("{}: padding byte at offset {} is not zero", source, p));
      }
    }
  }
}

json parse_metadata(std::string_view text, const std::string& source) {
  json metadata;
  try {
    metadata = parse_json(text);
  } catch (const json::exception& e) {
    throw corrupt(fmt::format("{}: artifact metadata is not valid JSON: {}", source, e.what()));
  }
  if (!metadata.is_object()) {
    throw corrupt(fmt::format("{}: artifact metadata is a JSON {}, not an object", source,
                              metadata.type_name()));
  }
  return metadata;
}

}  // namespace

std::string encode_artifact(const Model& model, const json& metadata) {
  try {
    model.validate();
  } catch (const Error& e) {
    throw Error(ErrorKind::kInternal,
                fmt::format("refusing to write an invalid model: {}", e.what()));
  }
  if (!metadata.is_object()) {
    throw Error(ErrorKind::kInput, fmt::format("artifact metadata must be a JSON object, not a {}",
                                               metadata.type_name()));
  }
  if (model.algorithm.size() > kMaxAlgorithmNameLength) {
    throw Error(ErrorKind::kInput, fmt::format("algorithm name is {} bytes long (at most {})",
                                               model.algorithm.size(), kMaxAlgorithmNameLength));
  }
  std::string meta;
  try {
    // nlohmann::json keeps object keys sorted, so the dump is deterministic.
    meta = json_text(metadata);
  } catch (const json::exception& e) {
    throw Error(ErrorKind::kInput,
                fmt::format("artifact metadata cannot be written: {}", e.what()));
  }
  if (meta.size() > kMaxMetadataLength) {
    throw Error(ErrorKind::kInput, fmt::format("artifact metadata is {} bytes (at most {})",
                                               meta.size(), kMaxMetadataLength));
  }
  const ModelType& type = model.type();
  const std::string header = type.encode_header(model);
  if (header.size() != type.header_size) {
    throw Error(ErrorKind::kInternal, fmt::format("model type {} wrote a {}-byte header, not {}",
                                                  type.name, header.size(), type.header_size));
  }
  const auto layout = make_layout(meta.size(), static_cast<uint32_t>(model.algorithm.size()),
                                  type.header_size, type.array_sizes(header.data()));
  if (!layout) {
    throw Error(ErrorKind::kInternal, fmt::format("model is too large for an artifact: {}",
                                                  type.describe(header.data())));
  }
  const Layout& l = *layout;

  std::string out(l.total, '\0');  // padding stays zero
  char* p = out.data();
  std::memcpy(p, kArtifactMagic.data(), kArtifactMagic.size());
  store_u32(p + 8, kArtifactFormatVersion);
  store_u32(p + 12, 0);  // flags
  store_u64(p + 16, meta.size());
  std::memcpy(p + l.metadata.offset, meta.data(), meta.size());
  store_u32(p + l.name_length_field, static_cast<uint32_t>(model.algorithm.size()));
  std::memcpy(p + l.name.offset, model.algorithm.data(), model.algorithm.size());
  std::memcpy(p + l.model_header.offset, header.data(), header.size());
  std::vector<char*> arrays;
  for (const Region& r : l.arrays) arrays.push_back(p + r.offset);
  type.encode_arrays(model, arrays);
  store_u64(p + l.trailer, l.trailer);
  store_u32(p + l.trailer + 8, crc32(p, l.trailer));
  std::memcpy(p + l.trailer + 12, kArtifactEndMagic.data(), kArtifactEndMagic.size());
  return out;
}

Artifact decode_artifact(std::string_view bytes, const std::string& source) {
  const uint64_t size = bytes.size();
  check_preamble(bytes.substr(0, std::min<uint64_t>(size, kPreambleSize)), size, source);

  // A complete file ends with its own payload length and the end magic. Only then is a
  // checksum mismatch the diagnosis; otherwise the header tells how long the file should be.
  bool complete = false;
  if (size >= kPreambleSize + kTrailerSize) {
    const uint64_t t = size - kTrailerSize;
    complete = bytes.substr(t + 12) == kArtifactEndMagic && load_u64(bytes.data() + t) == t;
  }
  if (complete) {
    const uint64_t t = size - kTrailerSize;
    const uint32_t stored = load_u32(bytes.data() + t + 8);
    const uint32_t computed = crc32(bytes.data(), t);
    if (stored != computed) {
      throw corrupt(
          fmt::format("{}: checksum mismatch: the trailer records CRC-32 {:08x} but the {} bytes "
                      "before it hash "
                      "to {:08x}; the file is damaged",
                      source, stored, t, computed));
    }
  }
  const Header h = parse_header(bytes, size, source, complete);
  const Layout& l = h.layout;
  if (!complete) {
    if (size < l.total) {
      throw corrupt(fmt::format("{}: artifact is truncated: expected {} bytes, file has {} bytes",
                                source, l.total, size));
    }
    if (size > l.total) {
      throw corrupt(fmt::format(
          "{}: artifact is {} bytes but its header describes {} bytes: data after the end or a "
          "damaged trailer",
          source, size, l.total));
    }
    throw corrupt(
        fmt::format("{}: artifact trailer is damaged: expected payload length {} and the end magic "
                    "\"RECOEND\\0\" in the last {} bytes",
                    source, l.trailer, kTrailerSize));
  }
  if (l.total != size) {
    throw corrupt(fmt::format(
        "{}: inconsistent counts: the header ({}) describes {} bytes but the file has {} bytes",
        source, h.describe(), l.total, size));
  }
  check_header_fields(h, bytes, source);

  Artifact a;
  const std::string_view meta = bytes.substr(l.metadata.offset, l.metadata.size);
  (void)parse_metadata(meta, source);
  a.metadata = std::string(meta);
  try {
    std::vector<std::string_view> arrays;
    for (const Region& r : l.arrays) arrays.push_back(bytes.substr(r.offset, r.size));
    std::unique_ptr<Model> m = h.type->decode(h.algorithm, h.model_header.data(), arrays);
    if (const auto* a = algorithms::find_algorithm_or_null(m->algorithm))
      m->ranking_scores = !a->predicts_ratings;
    m->validate();
    a.model = std::move(m);
  } catch (const Error& e) {
    throw corrupt(fmt::format("{}: {}", source, e.what()));
  }
  return a;
}

void write_artifact(const fs::path& path, const Model& model, const json& metadata) {
  write_file_atomic(path, encode_artifact(model, metadata));
}

namespace {

// Reads and checks the header of an open artifact: magic first (24 bytes), then only as much as
// the declared sizes need, each checked against the file size before it is read.
ArtifactHeader header_of(const InputFile& in) {
  const std::string& source = in.name();
  const uint64_t size = in.size();
  auto read_prefix = [&](uint64_t n) { return in.read_at(0, std::min(n, size)); };

  std::string prefix = read_prefix(kPreambleSize);
  check_preamble(prefix, size, source);
  const uint64_t metadata_length = load_u64(prefix.data() + 16);
  if (metadata_length > kMaxMetadataLength) {
    throw corrupt(fmt::format("{}: metadata length {} exceeds the limit of {} bytes", source,
                              metadata_length, kMaxMetadataLength));
  }
  // Enough for the longest algorithm name; then, once the name says which model type this is,
  // its model header. parse_header reports whatever is still missing.
  const auto name_field = name_length_offset(metadata_length);
  prefix = read_prefix(checked_add(name_field, 4 + kMaxAlgorithmNameLength + 8).value_or(size));
  if (checked_add(name_field, 4).value_or(UINT64_MAX) <= prefix.size()) {
    const uint32_t name_length = load_u32(prefix.data() + *name_field);
    const auto at = model_header_offset(*name_field, name_length);
    if (name_length <= kMaxAlgorithmNameLength && at && *at <= prefix.size()) {
      const auto* a = algorithms::find_algorithm_or_null(
          std::string_view(prefix).substr(*name_field + 4, name_length));
      const auto header_end = a ? checked_add(at, a->model_type->header_size) : std::nullopt;
      if (header_end && *header_end > prefix.size()) prefix = read_prefix(*header_end);
    }
  }
  const Header h = parse_header(prefix, size, source, false);
  if (size != h.layout.total) {
    throw corrupt(fmt::format("{}: artifact is {}: expected {} bytes, file has {} bytes", source,
                              size < h.layout.total ? "truncated" : "longer than its header says",
                              h.layout.total, size));
  }
  check_header_fields(h, prefix, source);

  ArtifactHeader out;
  out.format_version = h.version;
  out.file_size = size;
  const std::string_view meta =
      std::string_view(prefix).substr(h.layout.metadata.offset, h.layout.metadata.size);
  (void)parse_metadata(meta, source);
  out.metadata = std::string(meta);
  out.algorithm = h.algorithm;
  out.model_type = h.type->name;
  out.shape = h.type->shape(h.model_header.data());
  return out;
}

}  // namespace

Artifact read_artifact(const fs::path& path) {
  const InputFile in(path);
  // The header and every declared size are checked before the parameters are read, so a large
  // file that is not an artifact costs 24 bytes of reading, not its size in memory.
  (void)header_of(in);
  return decode_artifact(in.read_at(0, in.size()), in.name());
}

ArtifactHeader read_artifact_header(const fs::path& path) {
  return header_of(InputFile(path));
}

std::string read_artifact_metadata(const fs::path& path) {
  return read_artifact_header(path).metadata;
}

std::string artifact_timestamp() {
  int64_t seconds = 0;
  const char* sde = std::getenv("SOURCE_DATE_EPOCH");
  if (sde != nullptr && *sde != '\0') {
    const std::string_view text(sde);
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec != std::errc() || ptr != text.data() + text.size() || seconds < 0 ||
        !std::all_of(text.begin(), text.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("SOURCE_DATE_EPOCH='{}' is not a non-negative integer number of "
                              "seconds since 1970-01-01T00:00:00Z",
                              text));
    }
  } else {
    seconds = static_cast<int64_t>(std::time(nullptr));
  }
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  char buf[64];
  if (::gmtime_r(&t, &tm) == nullptr || tm.tm_year + 1900 > 9999 ||
      std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
    throw Error(ErrorKind::kUsage,
                fmt::format("SOURCE_DATE_EPOCH={} is outside the years 1970..9999", seconds));
  }
  return buf;
}

}  // namespace reco::registry
