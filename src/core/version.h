#pragma once
// reco's version: project(VERSION) in CMakeLists.txt is the only place it is written.

namespace reco {

const char* version() noexcept;  // "0.1.0"

}  // namespace reco
