#pragma once
// Deterministic kill points for the fault-injection tests (tests/e2e/test_faults.py): when the
// environment variable RECO_KILL_AT names a point, the process kills itself with SIGKILL there,
// as a power cut or `kill -9` would, so the tests can check what every such stop leaves behind.
// RECO_KILL_AT may also be "NAME@N": die at the N-th time (1-based) the point is reached.
// Unset (always, outside those tests), a kill point costs one cached comparison.

namespace reco {

void kill_point(const char* name);

}  // namespace reco
