#pragma once
// Runtime choice of the instruction set used by the numeric kernels (SGD, dot products, top-N
// scoring). The default build targets plain x86-64; the AVX2 and AVX-512 kernels are compiled
// with function-level target attributes and picked once per call site from what the CPU
// supports (__builtin_cpu_supports), so one binary runs everywhere and uses what it finds.
//
// RECO_SIMD=scalar|avx2|avx512|auto caps the choice (tests compare the paths; a value above
// what the CPU supports falls back to the best supported one). Every kernel gives bit-identical
// results on every path: they evaluate the same float operations in the same order (see
// kernels.h), so the choice only changes speed.

#include <cstdint>
#include <string_view>

namespace reco::algorithms {

enum class Isa : uint8_t { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

const char* isa_name(Isa isa);
// Parses "scalar", "avx2", "avx512"; throws Error(kUsage) naming the valid values otherwise.
Isa parse_isa(std::string_view name);
// The best kernel the CPU (and OS) supports: AVX-512 needs F+DQ+BW+VL, AVX2 needs AVX2+FMA.
Isa best_supported_isa();
// best_supported_isa() capped by $RECO_SIMD (read at every call, so tests can change it).
Isa active_isa();

}  // namespace reco::algorithms
