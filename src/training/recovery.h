#pragma once
// Settles what a process killed mid-way (kill -9, power cut, full disk) left in a home, so that
// job records, run.json files, the model registry and output tables never disagree. Every
// command that opens a home runs it first (`reco serve` at start); it is cheap when there is
// nothing to do (a directory scan) and safe to run from several processes at once.
//
// A training job publishes in this order (training/steps.h publish):
//   1. v<N>/ reserved (mkdir), run.json "InProgress" with the pid, the artifact as
//      model.reco.staged;
//   2. the output table and a _reco_publications row, in one warehouse transaction: the
//      commit point of a job with an output table;
//   3. model.reco.staged renamed to model.reco: the version becomes visible (the commit point of
//      a job without an output table);
//   4. run.json "Completed", then the job record "Completed".
// For a version directory without model.reco whose process is gone, recovery rolls forward
// (steps 3-4) when the warehouse holds its _reco_publications row, and otherwise rolls back:
// the staged artifact is deleted and the directory keeps only a run.json saying Failed and why,
// so the version stays invisible and its number is not reused. A job record left InProgress by a
// dead process becomes Completed with its result when its version is complete, else Failed saying
// so. Temporary files (`*.tmp-<pid>-<n>`) of dead processes are removed.

#include <cstddef>
#include <string>
#include <vector>

#include "core/home.h"

namespace reco::training {

struct RecoveryReport {
  size_t temp_files_removed = 0;
  size_t versions_committed = 0;  // rolled forward
  size_t versions_removed = 0;    // rolled back: only a run.json saying Failed stays
  size_t jobs_settled = 0;
  std::vector<std::string> notes;  // what could not be settled now, and why

  bool empty() const {
    return temp_files_removed + versions_committed + versions_removed + jobs_settled == 0 &&
           notes.empty();
  }
};

RecoveryReport recover_home(const Home& home);

}  // namespace reco::training
