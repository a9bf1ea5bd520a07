#pragma once
// What `reco train` and `reco evaluate` show while they work, and how Ctrl-C reaches the job.
// A thread redraws one line on stderr every 0.2 s when stderr is a terminal ("\r" + the
// snapshot's line), or prints a plain line when the step changes and every 10 s otherwise;
// nothing with --quiet. The first Ctrl-C (SIGINT) cancels the job (it stops within an epoch and
// is recorded as Cancelled); a second one ends the process at once.

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "core/progress.h"

namespace reco::cli {

class ProgressLine {
 public:
  enum class Mode { kQuiet, kPlain, kTerminal };
  ProgressLine(Progress& progress, Mode mode);
  ~ProgressLine();  // stops the thread, clears the line, restores SIGINT's handler
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // Prints a whole line (a log message) without mixing it into the progress line.
  void print(const std::string& text);

 private:
  void loop();
  void draw_locked(bool force);

  Progress& progress_;
  Mode mode_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool line_shown_ = false;
  std::string last_step_;
  double last_plain_ = -1;
  std::thread thread_;
};

}  // namespace reco::cli
