#include "registry/artifact.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <regex>
#include <string>

#include <fmt/format.h>

#include "core/error.h"
#include "core/fs.h"
#include "core/hash.h"
#include "test_models.h"

namespace reco::registry {
namespace {

namespace fs = std::filesystem;
using algorithms::FactorModel;
using nlohmann::json;
using ::testing::HasSubstr;
using testing::random_model;
using testing::Shape;
using testing::TempDir;

// --- Independent reading of the layout in docs/ARTIFACT_FORMAT.md, for tampering. ---

uint64_t get_u64(const std::string& b, uint64_t off) {
  uint64_t v = 0;
  for (int k = 0; k < 8; ++k) v |= uint64_t{static_cast<unsigned char>(b[off + k])} << (8 * k);
  return v;
}
uint32_t get_u32(const std::string& b, uint64_t off) {
  uint32_t v = 0;
  for (int k = 0; k < 4; ++k) v |= uint32_t{static_cast<unsigned char>(b[off + k])} << (8 * k);
  return v;
}
void put_u64(std::string& b, uint64_t off, uint64_t v) {
  for (int k = 0; k < 8; ++k)
    b[off + k] = static_cast<char>(static_cast<unsigned char>(v >> (8 * k)));
}
void put_u32(std::string& b, uint64_t off, uint32_t v) {
  for (int k = 0; k < 4; ++k)
    b[off + k] = static_cast<char>(static_cast<unsigned char>(v >> (8 * k)));
}
uint64_t align(uint64_t x, uint64_t a) {
  return (x + a - 1) / a * a;
}
uint64_t name_field_offset(const std::string& b) {
  return align(24 + get_u64(b, 16), 8);
}
uint64_t fixed_offset(const std::string& b) {
  const uint64_t a = name_field_offset(b);
  return align(a + 4 + get_u32(b, a), 8);
}
// Recomputes the trailer CRC so a deliberate inconsistency is not caught as a checksum error.
void fix_crc(std::string& b) {
  const uint64_t t = b.size() - 20;
  put_u32(b, t + 8, crc32(b.data(), t));
}

// Runs decode and returns the error (fails the test if it decodes).
std::optional<Error> decode_error(const std::string& bytes, const std::string& source = "a.reco") {
  try {
    decode_artifact(bytes, source);
  } catch (const Error& e) {
    return e;
  }
  return std::nullopt;
}

void expect_corrupt(const std::string& bytes, const std::string& fragment) {
  const auto e = decode_error(bytes, "/some/dir/model.reco");
  ASSERT_TRUE(e.has_value()) << "decoded although it should fail with: " << fragment;
  EXPECT_EQ(e->kind(), ErrorKind::kCorrupt) << e->what();
  EXPECT_THAT(e->what(), HasSubstr("/some/dir/model.reco: ")) << "message must name the file";
  EXPECT_THAT(e->what(), HasSubstr(fragment));
}

json sample_metadata() {
  return json{
      {"format", "reco-factor-model"},
      {"algorithm", "svd"},
      {"hyperparameters", {{"n_factors", 3}, {"lr", 0.005}, {"reg", 0.02}}},
      {"seed", 42},
      {"rating_scale", {{"min", 0.5}, {"max", 5.0}}},
      {"data", {{"table", "ratings"}, {"fingerprint", "00112233aabbccdd"}, {"n_ratings", 99}}},
      {"cv", {{"folds", 5}, {"rmse", {0.9, 0.91}}, {"mae", {0.7, 0.71}}}},
      {"created_at", "2024-01-02T03:04:05Z"},
      {"note", "unicode ok: \xc3\xa9\xe2\x82\xac"}};
}

void expect_same_model(const FactorModel& a, const FactorModel& b) {
  EXPECT_EQ(a.algorithm, b.algorithm);
  EXPECT_EQ(a.biased, b.biased);
  EXPECT_EQ(std::bit_cast<uint64_t>(a.global_mean), std::bit_cast<uint64_t>(b.global_mean));
  EXPECT_EQ(a.scale.min, b.scale.min);
  EXPECT_EQ(a.scale.max, b.scale.max);
  EXPECT_EQ(a.users.raw_ids(), b.users.raw_ids());
  EXPECT_EQ(a.items.raw_ids(), b.items.raw_ids());
  EXPECT_EQ(a.user_bias, b.user_bias);
  EXPECT_EQ(a.item_bias, b.item_bias);
  EXPECT_EQ(a.n_factors, b.n_factors);
  EXPECT_EQ(a.user_factors, b.user_factors);
  EXPECT_EQ(a.item_factors, b.item_factors);
  EXPECT_EQ(a.rated_offsets, b.rated_offsets);
  EXPECT_EQ(a.rated_items, b.rated_items);
  // The id maps are rebuilt, not just copied.
  for (uint32_t u = 0; u < b.n_users(); ++u) EXPECT_EQ(b.users.find(a.users.raw(u)), u);
  for (uint32_t i = 0; i < b.n_items(); ++i) EXPECT_EQ(b.items.find(a.items.raw(i)), i);
}

class RoundTrip : public ::testing::TestWithParam<Shape> {};

TEST_P(RoundTrip, DecodesToTheSameModelAndMetadata) {
  const Shape shape = GetParam();
  for (bool biased : {true, false}) {
    const FactorModel model = random_model(shape.n_users * 7919 + shape.n_factors, shape, biased,
                                           biased ? "svd" : "baseline");
    const json metadata = sample_metadata();
    const std::string bytes = encode_artifact(model, metadata);
    const Artifact back = decode_artifact(bytes, "mem");
    expect_same_model(model, algorithms::as_factor_model(*back.model));
    EXPECT_EQ(json::parse(back.metadata), metadata);
    EXPECT_EQ(bytes.size() % 8, 4u) << "trailer is 20 bytes after an 8-aligned payload";
    // Predictions agree for known and unknown ids.
    if (model.n_users() > 0 && model.n_items() > 0) {
      const int64_t u = model.users.raw(0), i = model.items.raw(model.n_items() - 1);
      EXPECT_EQ(model.predict(u, i), back.model->predict(u, i));
    }
    EXPECT_EQ(model.predict(123456789, 987654321), back.model->predict(123456789, 987654321));
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, RoundTrip,
                         ::testing::Values(Shape{0, 0, 0}, Shape{1, 1, 0}, Shape{3, 0, 4},
                                           Shape{0, 5, 2}, Shape{7, 11, 0}, Shape{7, 11, 3},
                                           Shape{64, 100, 17}, Shape{300, 500, 100}));

TEST(Artifact, EncodingIsDeterministic) {
  const FactorModel model = random_model(5, {40, 60, 8});
  json a = sample_metadata();
  // The same object built in another insertion order.
  json b = json::object();
  std::vector<std::string> keys;
  for (auto& [k, v] : a.items()) keys.push_back(k);
  for (auto k = keys.rbegin(); k != keys.rend(); ++k) b[*k] = a[*k];
  const std::string first = encode_artifact(model, a);
  EXPECT_EQ(first, encode_artifact(model, a));
  EXPECT_EQ(first, encode_artifact(model, b));
  const Artifact back = decode_artifact(first, "mem");
  EXPECT_EQ(first, encode_artifact(*back.model, json::parse(back.metadata)))
      << "decode/encode is lossless";
  // Metadata keys are stored sorted.
  const std::string meta = first.substr(24, get_u64(first, 16));
  EXPECT_LT(meta.find("\"algorithm\""), meta.find("\"cv\""));
  EXPECT_LT(meta.find("\"cv\""), meta.find("\"seed\""));
}

// Pins the documented layout: a change here is a format change (bump the version).
TEST(Artifact, GoldenLayout) {
  FactorModel m;
  m.algorithm = "svd";
  m.biased = true;
  m.global_mean = 3.5;
  m.scale = {0.5f, 5.0f};
  m.users = IdIndex::from_raw_ids({10, -20});
  m.items = IdIndex::from_raw_ids({7, 8, 9});
  m.user_bias = {0.25f, -0.5f};
  m.item_bias = {1.0f, 2.0f, 3.0f};
  m.n_factors = 2;
  m.user_factors = {0.1f, 0.2f, 0.3f, 0.4f};
  m.item_factors = {1, 2, 3, 4, 5, 6};
  m.rated_offsets = {0, 2, 3};
  m.rated_items = {0, 2, 1};
  const std::string b = encode_artifact(m, json{{"a", 1}});

  EXPECT_EQ(b.substr(0, 8), std::string("RECOMDL\0", 8));
  EXPECT_EQ(get_u32(b, 8), 1u);
  EXPECT_EQ(get_u32(b, 12), 0u);
  EXPECT_EQ(get_u64(b, 16), 7u);
  EXPECT_EQ(b.substr(24, 7), R"({"a":1})");
  EXPECT_EQ(b[31], '\0');
  EXPECT_EQ(get_u32(b, 32), 3u);  // name length at align8(24 + 7)
  EXPECT_EQ(b.substr(36, 3), "svd");
  // Fixed model header at align8(36 + 3) = 40.
  EXPECT_EQ(get_u32(b, 40), 1u);
  EXPECT_EQ(get_u32(b, 44), 0u);
  EXPECT_EQ(std::bit_cast<double>(get_u64(b, 48)), 3.5);
  EXPECT_EQ(std::bit_cast<float>(get_u32(b, 56)), 0.5f);
  EXPECT_EQ(std::bit_cast<float>(get_u32(b, 60)), 5.0f);
  EXPECT_EQ(get_u32(b, 64), 2u);
  EXPECT_EQ(get_u32(b, 68), 3u);
  EXPECT_EQ(get_u32(b, 72), 2u);
  EXPECT_EQ(get_u32(b, 76), 0u);
  EXPECT_EQ(get_u64(b, 80), 3u);
  // Arrays, each at the next multiple of 64.
  EXPECT_EQ(static_cast<int64_t>(get_u64(b, 128)), 10);
  EXPECT_EQ(static_cast<int64_t>(get_u64(b, 136)), -20);
  EXPECT_EQ(get_u64(b, 192), 7u);
  EXPECT_EQ(get_u64(b, 208), 9u);
  EXPECT_EQ(std::bit_cast<float>(get_u32(b, 256)), 0.25f);
  EXPECT_EQ(std::bit_cast<float>(get_u32(b, 260)), -0.5f);
  EXPECT_EQ(std::bit_cast<float>(get_u32(b, 320)), 1.0f);
  EXPECT_EQ(std::bit_cast<float>(get_u32(b, 328)), 3.0f);
  EXPECT_EQ(std::bit_cast<float>(get_u32(b, 384)), 0.1f);
  EXPECT_EQ(std::bit_cast<float>(get_u32(b, 396)), 0.4f);
  EXPECT_EQ(std::bit_cast<float>(get_u32(b, 448)), 1.0f);
  EXPECT_EQ(std::bit_cast<float>(get_u32(b, 468)), 6.0f);
  EXPECT_EQ(get_u64(b, 512), 0u);
  EXPECT_EQ(get_u64(b, 520), 2u);
  EXPECT_EQ(get_u64(b, 528), 3u);
  EXPECT_EQ(get_u32(b, 576), 0u);
  EXPECT_EQ(get_u32(b, 580), 2u);
  EXPECT_EQ(get_u32(b, 584), 1u);
  // Trailer at align8(588) = 592.
  ASSERT_EQ(b.size(), 612u);
  EXPECT_EQ(get_u64(b, 592), 592u);
  EXPECT_EQ(get_u32(b, 600), crc32(b.data(), 592));
  EXPECT_EQ(b.substr(604), std::string("RECOEND\0", 8));
  // All padding is zero.
  const std::pair<size_t, size_t> gaps[] = {{31, 32},   {39, 40},   {88, 128},  {144, 192},
                                            {216, 256}, {264, 320}, {332, 384}, {400, 448},
                                            {472, 512}, {536, 576}, {588, 592}};
  for (auto [from, to] : gaps) {
    for (size_t p = from; p < to; ++p) EXPECT_EQ(b[p], '\0') << "offset " << p;
  }
}

TEST(Artifact, FloatArraysAre64ByteAligned) {
  // Odd metadata and name lengths must not disturb the alignment.
  for (int extra = 0; extra < 70; extra += 13) {
    const std::string name(1 + extra % 9, 'x');  // names of every length modulo 8
    testing::register_factor_algorithm(name);
    const FactorModel m = random_model(extra, {5, 6, 3}, true, name);
    const std::string b = encode_artifact(m, json{{"pad", std::string(extra, 'p')}});
    uint64_t off = fixed_offset(b) + 48;
    const uint64_t sizes[] = {5 * 8, 6 * 8, 5 * 4, 6 * 4, 5 * 3 * 4, 6 * 3 * 4, 6 * 8};
    for (uint64_t s : sizes) {
      off = align(off, 64);
      EXPECT_EQ(off % 64, 0u);
      off += s;
    }
    const Artifact back = decode_artifact(b, "mem");
    EXPECT_EQ(back.model->algorithm, m.algorithm);
  }
}

TEST(Artifact, EveryFlippedByteIsDetected) {
  const FactorModel model = random_model(11, {4, 5, 2});
  const std::string good = encode_artifact(model, json{{"k", "v"}});
  const uint64_t t = good.size() - 20;
  for (size_t p = 0; p < good.size(); ++p) {
    std::string bad = good;
    bad[p] = static_cast<char>(bad[p] ^ 0x5a);
    std::string expected;
    if (p < 8) {
      expected = "not a reco model artifact";
    } else if (p < 12) {
      expected = "is newer than this reco supports";
    } else if (p < 16) {
      expected = "unknown artifact header flags";
    } else if (p < t || (p >= t + 8 && p < t + 12)) {
      expected = "checksum mismatch";
    } else {
      expected = "trailer is damaged";
    }
    SCOPED_TRACE(fmt::format("flipped byte at offset {} of {}", p, good.size()));
    expect_corrupt(bad, expected);
  }
}

TEST(Artifact, FlippedFactorByteIsAChecksumMismatch) {
  const FactorModel model = random_model(12, {30, 40, 10});
  std::string bytes = encode_artifact(model, sample_metadata());
  bytes[bytes.size() / 2] ^= 1;
  expect_corrupt(bytes, "checksum mismatch: the trailer records CRC-32");
}

TEST(Artifact, TruncationNamesExpectedAndActualSize) {
  const FactorModel model = random_model(13, {6, 9, 3});
  const std::string good = encode_artifact(model, json{{"meta", "data"}});
  const uint64_t fixed_end = fixed_offset(good) + 48;
  for (size_t cut = 0; cut < good.size(); ++cut) {
    SCOPED_TRACE(fmt::format("cut at {} of {}", cut, good.size()));
    const std::string bad = good.substr(0, cut);
    expect_corrupt(bad, "artifact is truncated");
    expect_corrupt(bad, fmt::format("file has {} bytes", cut));
    if (cut >= fixed_end) {
      expect_corrupt(bad, fmt::format("expected {} bytes", good.size()));
    } else {
      expect_corrupt(bad, "expected at least");
    }
  }
}

TEST(Artifact, WrongMagicIsNotAnArtifact) {
  expect_corrupt("PK\x03\x04 this is a zip file, not a model", "not a reco model artifact");
  expect_corrupt("userid,movieid,rating\n1,2,3.5\n", "not a reco model artifact");
  expect_corrupt("RECO", "artifact is truncated");  // a prefix of the magic is a truncated file
}

TEST(Artifact, NewerVersionAsksForUpgrade) {
  std::string bytes = encode_artifact(random_model(14, {3, 3, 2}), json::object());
  put_u32(bytes, 8, 2);
  expect_corrupt(
      bytes, "artifact format version 2 is newer than this reco supports (max 1); upgrade reco");
  put_u32(bytes, 8, 0);
  expect_corrupt(bytes, "invalid artifact format version 0");
}

TEST(Artifact, InconsistentCountsAreRejected) {
  const FactorModel model = random_model(15, {6, 8, 3});
  const std::string good = encode_artifact(model, json{{"x", 1}});
  const uint64_t f = fixed_offset(good);
  struct Case {
    const char* what;
    uint64_t offset;
    int width;
    uint64_t value;
    const char* fragment;
  };
  const Case cases[] = {
      {"n_users + 100", f + 24, 4, 106, "inconsistent counts"},
      {"n_items + 100", f + 28, 4, 108, "inconsistent counts"},
      // Small changes can fit in the alignment slack; other checks catch them.
      {"n_users + 1", f + 24, 4, 7, "appears twice in an id map"},
      {"n_items - 1", f + 28, 4, 7, "padding byte at offset"},
      {"n_factors huge", f + 32, 4, 0xffffffffu, "inconsistent counts"},
      {"n_rated huge", f + 40, 8, uint64_t{1} << 62, "inconsistent counts"},
      {"n_rated overflow", f + 40, 8, ~uint64_t{0}, "inconsistent counts"},
      {"metadata length past the end", 16, 8, 1 << 20, "inconsistent counts"},
      {"metadata length overflow", 16, 8, ~uint64_t{0} - 3, "inconsistent counts"},
      {"empty algorithm name", name_field_offset(good), 4, 0, "algorithm name length 0"},
      {"biased flag 2", f, 4, 2, "biased flag"},
      {"reserved field", f + 36, 4, 1, "reserved model header fields"},
      {"padding byte", f + 48, 1, 0x7f, "padding byte at offset"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    std::string bad = good;
    if (c.width == 8) {
      put_u64(bad, c.offset, c.value);
    } else if (c.width == 4) {
      put_u32(bad, c.offset, static_cast<uint32_t>(c.value));
    } else {
      bad[c.offset] = static_cast<char>(c.value);
    }
    fix_crc(bad);
    expect_corrupt(bad, c.fragment);
  }
}

TEST(Artifact, InconsistentContentsFailModelValidation) {
  const FactorModel model = random_model(16, {6, 8, 3});
  const std::string good = encode_artifact(model, json{{"x", 1}});
  const uint64_t f = fixed_offset(good);
  const uint64_t user_ids = align(f + 48, 64);
  const uint64_t item_ids = align(user_ids + 6 * 8, 64);
  const uint64_t user_bias = align(item_ids + 8 * 8, 64);
  const uint64_t item_bias = align(user_bias + 6 * 4, 64);
  const uint64_t user_factors = align(item_bias + 8 * 4, 64);
  const uint64_t item_factors = align(user_factors + 6 * 3 * 4, 64);
  const uint64_t rated_offsets = align(item_factors + 8 * 3 * 4, 64);
  const uint64_t rated_items = align(rated_offsets + 7 * 8, 64);
  {
    std::string bad = good;
    put_u64(bad, user_ids + 8, get_u64(bad, user_ids));  // duplicate user id
    fix_crc(bad);
    expect_corrupt(bad, "appears twice in an id map");
  }
  {
    std::string bad = good;
    put_u32(bad, user_factors + 4, 0x7fc00000u);  // NaN
    fix_crc(bad);
    expect_corrupt(bad, "NaN or infinity");
  }
  {
    std::string bad = good;
    put_u64(bad, rated_offsets, 1);  // index does not start at 0
    fix_crc(bad);
    expect_corrupt(bad, "rated-items index");
  }
  if (!model.rated_items.empty()) {
    std::string bad = good;
    put_u32(bad, rated_items, 8);  // item 8 of 8 items
    fix_crc(bad);
    expect_corrupt(bad, "rated item index 8 out of range");
  }
  {
    std::string bad = good;
    put_u32(bad, f + 16, std::bit_cast<uint32_t>(6.0f));  // scale min above max
    fix_crc(bad);
    expect_corrupt(bad, "rating scale");
  }
}

TEST(Artifact, MetadataMustBeAJsonObject) {
  const FactorModel model = random_model(17, {2, 2, 1});
  const std::string good = encode_artifact(model, json{{"a", 1}});  // {"a":1}, 7 bytes
  std::string array = good;
  array.replace(24, 7, "[1,2,3]");
  fix_crc(array);
  expect_corrupt(array, "metadata is a JSON array, not an object");
  std::string broken = good;
  broken.replace(24, 7, "{\"a\":1x");
  fix_crc(broken);
  expect_corrupt(broken, "metadata is not valid JSON");
}

TEST(Artifact, TrailingDataIsRejected) {
  const std::string good = encode_artifact(random_model(18, {2, 3, 1}), json::object());
  expect_corrupt(good + std::string(5, '\0'), "header describes");
}

TEST(Artifact, EncodeRejectsBadInput) {
  FactorModel model = random_model(19, {3, 4, 2});
  try {
    encode_artifact(model, json::array({1, 2}));
    FAIL() << "non-object metadata accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    EXPECT_THAT(e.what(), HasSubstr("must be a JSON object"));
  }
  try {
    encode_artifact(model, json{{"table", std::string("bad \xff utf8")}});
    FAIL() << "invalid UTF-8 accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
  }
  model.item_factors.pop_back();
  try {
    encode_artifact(model, json::object());
    FAIL() << "invalid model accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInternal);
    EXPECT_THAT(e.what(), HasSubstr("item factor matrix"));
  }
}

TEST(ArtifactFile, WriteIsAtomicAndLeavesNoTemporaryFiles) {
  TempDir dir;
  const fs::path path = dir.path() / "nested" / "model.reco";
  const FactorModel a = random_model(20, {10, 20, 4});
  const FactorModel b = random_model(21, {12, 5, 0}, false, "baseline");
  write_artifact(path, a, sample_metadata());
  write_artifact(path, b, json{{"second", true}});  // replaces
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(path.parent_path()))
    names.push_back(e.path().filename());
  EXPECT_THAT(names, ::testing::ElementsAre("model.reco"));
  const Artifact back = read_artifact(path);
  expect_same_model(b, algorithms::as_factor_model(*back.model));
  EXPECT_EQ(json::parse(back.metadata), (json{{"second", true}}));
  EXPECT_EQ(read_file(path), encode_artifact(b, json{{"second", true}}));
}

TEST(ArtifactFile, MissingFileIsNotFound) {
  TempDir dir;
  for (auto read : {+[](const fs::path& p) { read_artifact(p); },
                    +[](const fs::path& p) { read_artifact_header(p); }}) {
    try {
      read(dir.path() / "nope.reco");
      FAIL() << "missing file read";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
      EXPECT_THAT(e.what(), HasSubstr("nope.reco"));
    }
    try {
      read(dir.path());
      FAIL() << "directory read as an artifact";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUsage);
      EXPECT_THAT(e.what(), HasSubstr("is a directory"));
    }
  }
}

TEST(ArtifactFile, CorruptFileErrorNamesThePath) {
  TempDir dir;
  const fs::path path = dir.path() / "model.reco";
  std::string bytes = encode_artifact(random_model(22, {5, 5, 2}), json::object());
  bytes[bytes.size() - 30] ^= 0x10;
  write_file_atomic(path, bytes);
  try {
    read_artifact(path);
    FAIL() << "damaged file read";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
    EXPECT_THAT(e.what(), HasSubstr(path.string() + ": checksum mismatch"));
  }
}

TEST(ArtifactHeader, ReadsMetadataAndShapeWithoutTheParameters) {
  TempDir dir;
  const fs::path path = dir.path() / "model.reco";
  const FactorModel model = random_model(23, {40, 70, 12});
  std::string bytes = encode_artifact(model, sample_metadata());
  // Damage the parameters: the header reader does not look at them, the full reader does.
  bytes[bytes.size() - 100] ^= 0x01;
  write_file_atomic(path, bytes);
  const ArtifactHeader h = read_artifact_header(path);
  EXPECT_EQ(h.format_version, 1u);
  EXPECT_EQ(h.file_size, bytes.size());
  EXPECT_EQ(json::parse(h.metadata), sample_metadata());
  EXPECT_EQ(json::parse(read_artifact_metadata(path)), sample_metadata());
  EXPECT_EQ(h.algorithm, "svd");
  EXPECT_EQ(h.model_type, "factor");
  EXPECT_EQ(h.shape.n_users, 40u);
  EXPECT_EQ(h.shape.n_items, 70u);
  EXPECT_EQ(h.shape.n_factors, 12u);
  EXPECT_EQ(h.shape.n_ratings, model.rated_items.size());
  EXPECT_THROW(read_artifact(path), Error);
}

TEST(ArtifactHeader, DetectsTruncationWrongMagicAndNewerVersion) {
  TempDir dir;
  const fs::path path = dir.path() / "model.reco";
  const std::string good = encode_artifact(random_model(24, {8, 9, 3}), json{{"k", 1}});
  auto header_error = [&](const std::string& bytes) -> std::string {
    write_file_atomic(path, bytes);
    try {
      read_artifact_header(path);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
      EXPECT_THAT(e.what(), HasSubstr(path.string()));
      return e.what();
    }
    return "no error";
  };
  EXPECT_THAT(header_error(good.substr(0, good.size() - 1)),
              HasSubstr(fmt::format("truncated: expected {} bytes, file has {} bytes", good.size(),
                                    good.size() - 1)));
  EXPECT_THAT(header_error(good.substr(0, 30)), HasSubstr("truncated: expected at least"));
  EXPECT_THAT(header_error(good.substr(0, 10)), HasSubstr("truncated: expected at least 24 bytes"));
  EXPECT_THAT(header_error("not a model at all, just text"),
              HasSubstr("not a reco model artifact"));
  std::string v2 = good;
  put_u32(v2, 8, 2);
  EXPECT_THAT(header_error(v2), HasSubstr("version 2 is newer than this reco supports"));
  std::string huge_meta = good;
  put_u64(huge_meta, 16, uint64_t{1} << 40);
  EXPECT_THAT(header_error(huge_meta),
              HasSubstr("metadata length 1099511627776 exceeds the limit of 67108864 bytes"));
  put_u64(huge_meta, 16, uint64_t{1} << 20);  // within the limit, beyond the file
  EXPECT_THAT(header_error(huge_meta), HasSubstr("truncated: expected at least"));
}

class SourceDateEpoch : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* old = std::getenv("SOURCE_DATE_EPOCH");
    if (old) saved_ = old;
  }
  void TearDown() override {
    if (saved_) {
      ::setenv("SOURCE_DATE_EPOCH", saved_->c_str(), 1);
    } else {
      ::unsetenv("SOURCE_DATE_EPOCH");
    }
  }
  std::optional<std::string> saved_;
};

TEST_F(SourceDateEpoch, FixesTheTimestamp) {
  ::setenv("SOURCE_DATE_EPOCH", "0", 1);
  EXPECT_EQ(artifact_timestamp(), "1970-01-01T00:00:00Z");
  ::setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
  EXPECT_EQ(artifact_timestamp(), "2023-11-14T22:13:20Z");
}

TEST_F(SourceDateEpoch, RejectsBadValues) {
  for (const char* bad : {"abc", "-5", "12x", " 12", "1e9", "99999999999999999999999"}) {
    ::setenv("SOURCE_DATE_EPOCH", bad, 1);
    try {
      artifact_timestamp();
      FAIL() << "accepted SOURCE_DATE_EPOCH=" << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUsage);
      EXPECT_THAT(e.what(), HasSubstr("SOURCE_DATE_EPOCH"));
    }
  }
}

TEST_F(SourceDateEpoch, UnsetMeansNow) {
  ::unsetenv("SOURCE_DATE_EPOCH");
  const std::string now = artifact_timestamp();
  EXPECT_TRUE(std::regex_match(now, std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)"))) << now;
  EXPECT_GE(now, std::string("2024-01-01T00:00:00Z"));
}

}  // namespace
}  // namespace reco::registry
