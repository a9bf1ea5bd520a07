#pragma once
// Explicit little-endian encoding of numbers and arrays, so a file written here reads the same on
// every host (model artifacts). GCC and Clang compile these loops to single moves on
// little-endian machines.

#include <bit>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace reco::binary {

inline void store_u32(char* p, uint32_t v) {
  for (int k = 0; k < 4; ++k) p[k] = static_cast<char>(static_cast<unsigned char>(v >> (8 * k)));
}
inline void store_u64(char* p, uint64_t v) {
  for (int k = 0; k < 8; ++k) p[k] = static_cast<char>(static_cast<unsigned char>(v >> (8 * k)));
}
inline uint32_t load_u32(const char* p) {
  uint32_t v = 0;
  for (int k = 0; k < 4; ++k) v |= uint32_t{static_cast<unsigned char>(p[k])} << (8 * k);
  return v;
}
inline uint64_t load_u64(const char* p) {
  uint64_t v = 0;
  for (int k = 0; k < 8; ++k) v |= uint64_t{static_cast<unsigned char>(p[k])} << (8 * k);
  return v;
}
inline void store_f32(char* p, float v) {
  store_u32(p, std::bit_cast<uint32_t>(v));
}
inline void store_f64(char* p, double v) {
  store_u64(p, std::bit_cast<uint64_t>(v));
}
inline float load_f32(const char* p) {
  return std::bit_cast<float>(load_u32(p));
}
inline double load_f64(const char* p) {
  return std::bit_cast<double>(load_u64(p));
}

// Arrays: `out` has room for v.size() elements; `bytes` holds a whole number of elements.
inline void store_i64s(char* out, std::span<const int64_t> v) {
  for (size_t k = 0; k < v.size(); ++k) store_u64(out + 8 * k, static_cast<uint64_t>(v[k]));
}
inline void store_u64s(char* out, std::span<const uint64_t> v) {
  for (size_t k = 0; k < v.size(); ++k) store_u64(out + 8 * k, v[k]);
}
inline void store_u32s(char* out, std::span<const uint32_t> v) {
  for (size_t k = 0; k < v.size(); ++k) store_u32(out + 4 * k, v[k]);
}
inline void store_f32s(char* out, std::span<const float> v) {
  for (size_t k = 0; k < v.size(); ++k) store_f32(out + 4 * k, v[k]);
}
inline void store_f64s(char* out, std::span<const double> v) {
  for (size_t k = 0; k < v.size(); ++k) store_f64(out + 8 * k, v[k]);
}
inline std::vector<int64_t> load_i64s(std::string_view bytes) {
  std::vector<int64_t> v(bytes.size() / 8);
  for (size_t k = 0; k < v.size(); ++k) v[k] = static_cast<int64_t>(load_u64(bytes.data() + 8 * k));
  return v;
}
inline std::vector<uint64_t> load_u64s(std::string_view bytes) {
  std::vector<uint64_t> v(bytes.size() / 8);
  for (size_t k = 0; k < v.size(); ++k) v[k] = load_u64(bytes.data() + 8 * k);
  return v;
}
inline std::vector<uint32_t> load_u32s(std::string_view bytes) {
  std::vector<uint32_t> v(bytes.size() / 4);
  for (size_t k = 0; k < v.size(); ++k) v[k] = load_u32(bytes.data() + 4 * k);
  return v;
}
inline std::vector<float> load_f32s(std::string_view bytes) {
  std::vector<float> v(bytes.size() / 4);
  for (size_t k = 0; k < v.size(); ++k) v[k] = load_f32(bytes.data() + 4 * k);
  return v;
}
inline std::vector<double> load_f64s(std::string_view bytes) {
  std::vector<double> v(bytes.size() / 8);
  for (size_t k = 0; k < v.size(); ++k) v[k] = load_f64(bytes.data() + 8 * k);
  return v;
}

// Overflow-checked size arithmetic, for counts read from a file that may be damaged.
inline std::optional<uint64_t> checked_add(std::optional<uint64_t> a, uint64_t b) {
  uint64_t r;
  if (!a || __builtin_add_overflow(*a, b, &r)) return std::nullopt;
  return r;
}
inline std::optional<uint64_t> checked_mul(std::optional<uint64_t> a, uint64_t b) {
  uint64_t r;
  if (!a || __builtin_mul_overflow(*a, b, &r)) return std::nullopt;
  return r;
}
// Every size, or nullopt when one of them overflowed.
inline std::optional<std::vector<uint64_t>> all_sizes(
    std::initializer_list<std::optional<uint64_t>> sizes) {
  std::vector<uint64_t> out;
  for (const auto& s : sizes) {
    if (!s) return std::nullopt;
    out.push_back(*s);
  }
  return out;
}
inline std::optional<uint64_t> align_up(std::optional<uint64_t> x, uint64_t alignment) {
  auto r = checked_add(x, alignment - 1);
  if (!r) return std::nullopt;
  return *r & ~(alignment - 1);
}

}  // namespace reco::binary
