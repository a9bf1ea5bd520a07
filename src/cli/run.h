#pragma once
// The entry point of the reco command (kept free of CLI11 so main.cpp compiles fast).

namespace reco::cli {

// Builds the app and runs it; returns the process exit code.
int run(int argc, char** argv);

}  // namespace reco::cli
