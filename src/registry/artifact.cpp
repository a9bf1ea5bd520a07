#include "registry/artifact.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "core/fs.h"
#include "core/hash.h"

namespace reco::registry {
namespace {

namespace fs = std::filesystem;
using algorithms::FactorModel;
using nlohmann::json;

// Sizes from docs/ARTIFACT_FORMAT.md.
constexpr uint64_t kPreambleSize = 24;  // magic, format_version, flags, metadata_length
constexpr uint64_t kFixedModelHeaderSize = 48;
constexpr uint64_t kTrailerSize = 20;  // payload_length, crc32, end magic
constexpr uint32_t kMaxAlgorithmNameLength = 255;

// Explicit little-endian stores and loads: the file is the same on every host. GCC and Clang
// compile these loops to single moves on little-endian machines.
void store_u32(char* p, uint32_t v) {
  for (int k = 0; k < 4; ++k) p[k] = static_cast<char>(static_cast<unsigned char>(v >> (8 * k)));
}
void store_u64(char* p, uint64_t v) {
  for (int k = 0; k < 8; ++k) p[k] = static_cast<char>(static_cast<unsigned char>(v >> (8 * k)));
}
uint32_t load_u32(const char* p) {
  uint32_t v = 0;
  for (int k = 0; k < 4; ++k) v |= uint32_t{static_cast<unsigned char>(p[k])} << (8 * k);
  return v;
}
uint64_t load_u64(const char* p) {
  uint64_t v = 0;
  for (int k = 0; k < 8; ++k) v |= uint64_t{static_cast<unsigned char>(p[k])} << (8 * k);
  return v;
}

// Overflow-checked size arithmetic: counts read from a damaged file can be anything.
std::optional<uint64_t> add(std::optional<uint64_t> a, uint64_t b) {
  uint64_t r;
  if (!a || __builtin_add_overflow(*a, b, &r)) return std::nullopt;
  return r;
}
std::optional<uint64_t> mul(std::optional<uint64_t> a, uint64_t b) {
  uint64_t r;
  if (!a || __builtin_mul_overflow(*a, b, &r)) return std::nullopt;
  return r;
}
std::optional<uint64_t> align_up(std::optional<uint64_t> x, uint64_t alignment) {
  auto r = add(x, alignment - 1);
  if (!r) return std::nullopt;
  return *r & ~(alignment - 1);
}

struct Region {
  uint64_t offset = 0;
  uint64_t size = 0;
  uint64_t end() const { return offset + size; }
};

// The counts that determine where everything is.
struct Counts {
  uint64_t metadata_length = 0;
  uint32_t name_length = 0;
  uint32_t n_users = 0;
  uint32_t n_items = 0;
  uint32_t n_factors = 0;
  uint64_t n_rated = 0;
};

struct Layout {
  Region metadata;
  uint64_t name_length_field = 0;  // the u32 algorithm name length
  Region name;
  Region fixed;  // biased ... n_rated
  Region user_ids, item_ids, user_bias, item_bias, user_factors, item_factors, rated_offsets,
      rated_items;
  uint64_t trailer = 0;
  uint64_t total = 0;

  // Every byte-carrying region in file order; the gaps between them are zero padding.
  std::vector<Region> regions() const {
    return {Region{0, kPreambleSize},
            metadata,
            Region{name_length_field, 4},
            name,
            fixed,
            user_ids,
            item_ids,
            user_bias,
            item_bias,
            user_factors,
            item_factors,
            rated_offsets,
            rated_items,
            Region{trailer, kTrailerSize}};
  }
};

std::optional<uint64_t> name_length_offset(uint64_t metadata_length) {
  return align_up(add(kPreambleSize, metadata_length), 8);
}
std::optional<uint64_t> fixed_header_offset(uint64_t name_length_field, uint32_t name_length) {
  return align_up(add(add(name_length_field, 4), name_length), 8);
}

std::optional<Layout> make_layout(const Counts& c) {
  Layout l;
  l.metadata = {kPreambleSize, c.metadata_length};
  const auto a = name_length_offset(c.metadata_length);
  const auto b = a ? fixed_header_offset(*a, c.name_length) : std::nullopt;
  if (!b) return std::nullopt;
  l.name_length_field = *a;
  l.name = {*a + 4, c.name_length};
  l.fixed = {*b, kFixedModelHeaderSize};
  uint64_t cursor = l.fixed.end();
  // Each array starts at the next 64-byte boundary, empty ones included, so offsets depend only
  // on the counts.
  auto place = [&](Region& r, std::optional<uint64_t> bytes) {
    const auto start = align_up(cursor, kArtifactAlignment);
    const auto end = bytes ? add(start, *bytes) : std::nullopt;
    if (!end) return false;
    r = {*start, *bytes};
    cursor = *end;
    return true;
  };
  const uint64_t nu = c.n_users, ni = c.n_items, k = c.n_factors;
  if (!place(l.user_ids, mul(nu, 8)) || !place(l.item_ids, mul(ni, 8)) ||
      !place(l.user_bias, mul(nu, 4)) || !place(l.item_bias, mul(ni, 4)) ||
      !place(l.user_factors, mul(mul(nu, k), 4)) || !place(l.item_factors, mul(mul(ni, k), 4)) ||
      !place(l.rated_offsets, mul(add(nu, 1), 8)) || !place(l.rated_items, mul(c.n_rated, 4))) {
    return std::nullopt;
  }
  const auto trailer = align_up(cursor, 8);
  const auto total = add(trailer, kTrailerSize);
  if (!total) return std::nullopt;
  l.trailer = *trailer;
  l.total = *total;
  return l;
}

Error corrupt(const std::string& message) {
  return Error(ErrorKind::kCorrupt, message);
}

std::string describe(const Counts& c) {
  return fmt::format(
      "metadata_length={}, algorithm name length={}, n_users={}, n_items={}, n_factors={}, "
      "n_rated={}",
      c.metadata_length, c.name_length, c.n_users, c.n_items, c.n_factors, c.n_rated);
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
  Counts counts;
  Layout layout;
  uint32_t biased = 0;
  uint32_t reserved0 = 0;
  uint32_t reserved1 = 0;
  double global_mean = 0;
  float scale_min = 0;
  float scale_max = 0;
};

// Reads the header from `data`, the first bytes of a file of `file_size` bytes; `data` holds
// either the whole file or at least everything up to the end of the fixed model header.
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
  h.counts.metadata_length = load_u64(data.data() + 16);
  const auto name_field = name_length_offset(h.counts.metadata_length);
  need(add(name_field, 4), "algorithm name length field (after the metadata)");
  h.counts.name_length = load_u32(data.data() + *name_field);
  if (h.counts.name_length == 0 || h.counts.name_length > kMaxAlgorithmNameLength) {
    throw corrupt(fmt::format(
        "{}: inconsistent counts: algorithm name length {} at offset {} is outside 1..{}", source,
        h.counts.name_length, *name_field, kMaxAlgorithmNameLength));
  }
  const auto fixed = fixed_header_offset(*name_field, h.counts.name_length);
  need(add(fixed, kFixedModelHeaderSize), "model header");
  const char* f = data.data() + *fixed;
  h.biased = load_u32(f + 0);
  h.reserved0 = load_u32(f + 4);
  h.global_mean = std::bit_cast<double>(load_u64(f + 8));
  h.scale_min = std::bit_cast<float>(load_u32(f + 16));
  h.scale_max = std::bit_cast<float>(load_u32(f + 20));
  h.counts.n_users = load_u32(f + 24);
  h.counts.n_items = load_u32(f + 28);
  h.counts.n_factors = load_u32(f + 32);
  h.reserved1 = load_u32(f + 36);
  h.counts.n_rated = load_u64(f + 40);
  const auto layout = make_layout(h.counts);
  if (!layout) {
    throw corrupt(fmt::format("{}: inconsistent counts: {} describe more than 2^64 bytes", source,
                              describe(h.counts)));
  }
  h.layout = *layout;
  return h;
}

// Checks of header fields that do not affect where things are. Run once the size is known good.
void check_header_fields(const Header& h, std::string_view data, const std::string& source) {
  if (h.biased > 1) {
    throw corrupt(fmt::format("{}: biased flag at offset {} is {} (must be 0 or 1)", source,
                              h.layout.fixed.offset, h.biased));
  }
  if (h.reserved0 != 0 || h.reserved1 != 0) {
    throw corrupt(fmt::format("{}: reserved model header fields at offset {} are not zero", source,
                              h.layout.fixed.offset));
  }
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
    metadata = json::parse(text);
  } catch (const json::exception& e) {
    throw corrupt(fmt::format("{}: artifact metadata is not valid JSON: {}", source, e.what()));
  }
  if (!metadata.is_object()) {
    throw corrupt(fmt::format("{}: artifact metadata is a JSON {}, not an object", source,
                              metadata.type_name()));
  }
  return metadata;
}

std::vector<int64_t> load_i64s(std::string_view bytes, Region r) {
  std::vector<int64_t> v(r.size / 8);
  const char* p = bytes.data() + r.offset;
  for (size_t k = 0; k < v.size(); ++k) v[k] = static_cast<int64_t>(load_u64(p + 8 * k));
  return v;
}
std::vector<uint64_t> load_u64s(std::string_view bytes, Region r) {
  std::vector<uint64_t> v(r.size / 8);
  const char* p = bytes.data() + r.offset;
  for (size_t k = 0; k < v.size(); ++k) v[k] = load_u64(p + 8 * k);
  return v;
}
std::vector<uint32_t> load_u32s(std::string_view bytes, Region r) {
  std::vector<uint32_t> v(r.size / 4);
  const char* p = bytes.data() + r.offset;
  for (size_t k = 0; k < v.size(); ++k) v[k] = load_u32(p + 4 * k);
  return v;
}
std::vector<float> load_f32s(std::string_view bytes, Region r) {
  std::vector<float> v(r.size / 4);
  const char* p = bytes.data() + r.offset;
  for (size_t k = 0; k < v.size(); ++k) v[k] = std::bit_cast<float>(load_u32(p + 4 * k));
  return v;
}

void store_i64s(std::string& out, Region r, const std::vector<int64_t>& v) {
  char* p = out.data() + r.offset;
  for (size_t k = 0; k < v.size(); ++k) store_u64(p + 8 * k, static_cast<uint64_t>(v[k]));
}
void store_u64s(std::string& out, Region r, const std::vector<uint64_t>& v) {
  char* p = out.data() + r.offset;
  for (size_t k = 0; k < v.size(); ++k) store_u64(p + 8 * k, v[k]);
}
void store_u32s(std::string& out, Region r, const std::vector<uint32_t>& v) {
  char* p = out.data() + r.offset;
  for (size_t k = 0; k < v.size(); ++k) store_u32(p + 4 * k, v[k]);
}
void store_f32s(std::string& out, Region r, const std::vector<float>& v) {
  char* p = out.data() + r.offset;
  for (size_t k = 0; k < v.size(); ++k) store_u32(p + 4 * k, std::bit_cast<uint32_t>(v[k]));
}

}  // namespace

std::string encode_artifact(const FactorModel& model, const json& metadata) {
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
    meta = metadata.dump();
  } catch (const json::exception& e) {
    throw Error(ErrorKind::kInput,
                fmt::format("artifact metadata cannot be written: {}", e.what()));
  }
  Counts c;
  c.metadata_length = meta.size();
  c.name_length = static_cast<uint32_t>(model.algorithm.size());
  c.n_users = model.n_users();
  c.n_items = model.n_items();
  c.n_factors = model.n_factors;
  c.n_rated = model.rated_items.size();
  const auto layout = make_layout(c);
  if (!layout)
    throw Error(ErrorKind::kInternal, "model is too large for an artifact: " + describe(c));
  const Layout& l = *layout;

  std::string out(l.total, '\0');  // padding stays zero
  char* p = out.data();
  std::memcpy(p, kArtifactMagic.data(), kArtifactMagic.size());
  store_u32(p + 8, kArtifactFormatVersion);
  store_u32(p + 12, 0);  // flags
  store_u64(p + 16, c.metadata_length);
  std::memcpy(p + l.metadata.offset, meta.data(), meta.size());
  store_u32(p + l.name_length_field, c.name_length);
  std::memcpy(p + l.name.offset, model.algorithm.data(), model.algorithm.size());
  char* f = p + l.fixed.offset;
  store_u32(f + 0, model.biased ? 1 : 0);
  store_u32(f + 4, 0);
  store_u64(f + 8, std::bit_cast<uint64_t>(model.global_mean));
  store_u32(f + 16, std::bit_cast<uint32_t>(model.scale.min));
  store_u32(f + 20, std::bit_cast<uint32_t>(model.scale.max));
  store_u32(f + 24, c.n_users);
  store_u32(f + 28, c.n_items);
  store_u32(f + 32, c.n_factors);
  store_u32(f + 36, 0);
  store_u64(f + 40, c.n_rated);
  store_i64s(out, l.user_ids, model.users.raw_ids());
  store_i64s(out, l.item_ids, model.items.raw_ids());
  store_f32s(out, l.user_bias, model.user_bias);
  store_f32s(out, l.item_bias, model.item_bias);
  store_f32s(out, l.user_factors, model.user_factors);
  store_f32s(out, l.item_factors, model.item_factors);
  store_u64s(out, l.rated_offsets, model.rated_offsets);
  store_u32s(out, l.rated_items, model.rated_items);
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
        source, describe(h.counts), l.total, size));
  }
  check_header_fields(h, bytes, source);

  Artifact a;
  a.metadata = parse_metadata(bytes.substr(l.metadata.offset, l.metadata.size), source);
  FactorModel& m = a.model;
  try {
    m.algorithm = std::string(bytes.substr(l.name.offset, l.name.size));
    m.biased = h.biased == 1;
    m.global_mean = h.global_mean;
    m.scale = {h.scale_min, h.scale_max};
    m.users = IdIndex::from_raw_ids(load_i64s(bytes, l.user_ids));
    m.items = IdIndex::from_raw_ids(load_i64s(bytes, l.item_ids));
    m.user_bias = load_f32s(bytes, l.user_bias);
    m.item_bias = load_f32s(bytes, l.item_bias);
    m.n_factors = h.counts.n_factors;
    m.user_factors = load_f32s(bytes, l.user_factors);
    m.item_factors = load_f32s(bytes, l.item_factors);
    m.rated_offsets = load_u64s(bytes, l.rated_offsets);
    m.rated_items = load_u32s(bytes, l.rated_items);
    m.validate();
  } catch (const Error& e) {
    throw corrupt(fmt::format("{}: {}", source, e.what()));
  }
  return a;
}

void write_artifact(const fs::path& path, const FactorModel& model, const json& metadata) {
  write_file_atomic(path, encode_artifact(model, metadata));
}

namespace {

void reject_directory(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    throw Error(ErrorKind::kUsage,
                fmt::format("{} is a directory, not a model artifact file", path.string()));
  }
}

}  // namespace

Artifact read_artifact(const fs::path& path) {
  reject_directory(path);
  const std::string bytes = read_file(path);
  return decode_artifact(bytes, path.string());
}

ArtifactHeader read_artifact_header(const fs::path& path) {
  reject_directory(path);
  const std::string source = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      throw Error(ErrorKind::kNotFound, fmt::format("file not found: {}", source));
    }
    throw Error(ErrorKind::kIo, fmt::format("cannot open {}: {}", source, std::strerror(err)));
  }
  // The size of the open file, not of whatever the path names by now.
  in.seekg(0, std::ios::end);
  const auto end = in.tellg();
  if (end < 0) throw Error(ErrorKind::kIo, fmt::format("cannot read {}", source));
  const uint64_t size = static_cast<uint64_t>(end);
  auto read_prefix = [&](uint64_t n) {
    std::string buf(static_cast<size_t>(std::min(n, size)), '\0');
    in.seekg(0);
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (!in) throw Error(ErrorKind::kIo, fmt::format("cannot read {}", source));
    return buf;
  };

  std::string prefix = read_prefix(kPreambleSize);
  check_preamble(prefix, size, source);
  // Enough for the longest algorithm name and the fixed model header, whatever the name is.
  const auto name_field = name_length_offset(load_u64(prefix.data() + 16));
  const auto wanted = add(add(name_field, 4 + kMaxAlgorithmNameLength + 8), kFixedModelHeaderSize);
  const bool name_field_present = add(name_field, 4).value_or(UINT64_MAX) <= size;
  prefix = read_prefix(name_field_present ? wanted.value_or(size) : kPreambleSize);
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
  out.metadata = parse_metadata(
      std::string_view(prefix).substr(h.layout.metadata.offset, h.layout.metadata.size), source);
  out.algorithm = prefix.substr(h.layout.name.offset, h.layout.name.size);
  out.biased = h.biased == 1;
  out.n_users = h.counts.n_users;
  out.n_items = h.counts.n_items;
  out.n_factors = h.counts.n_factors;
  out.n_rated = h.counts.n_rated;
  return out;
}

json read_artifact_metadata(const fs::path& path) {
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
