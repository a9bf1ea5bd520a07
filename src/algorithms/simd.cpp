#include "algorithms/simd.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "core/error.h"

namespace reco::algorithms {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return "scalar";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512:
      return "avx512";
  }
  return "?";
}

Isa parse_isa(std::string_view name) {
  if (name == "scalar") return Isa::kScalar;
  if (name == "avx2") return Isa::kAvx2;
  if (name == "avx512") return Isa::kAvx512;
  throw Error(ErrorKind::kUsage, "RECO_SIMD: unknown instruction set '" + std::string(name) +
                                     "' (valid: scalar, avx2, avx512, auto)");
}

Isa best_supported_isa() {
#if defined(__x86_64__) || defined(__i386__)
  static const Isa best = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) {
      return Isa::kAvx512;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::kAvx2;
    return Isa::kScalar;
  }();
  return best;
#else
  return Isa::kScalar;
#endif
}

Isa active_isa() {
  const Isa best = best_supported_isa();
  const char* env = std::getenv("RECO_SIMD");
  if (env == nullptr || *env == '\0' || std::string_view(env) == "auto") return best;
  return std::min(best, parse_isa(env));
}

}  // namespace reco::algorithms
