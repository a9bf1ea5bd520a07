#pragma once
// Processes that own state in the home (a job, a claim, a lock note) are named by pid.

#include <cstdint>

namespace reco {

// True when a process with this pid exists (or may: EPERM counts as alive); false for pid <= 0.
bool process_alive(int64_t pid);

}  // namespace reco
