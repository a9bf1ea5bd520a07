#include "cli/progress_line.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>

#include <fmt/format.h>

namespace reco::cli {
namespace {

std::atomic<int> g_interrupts{0};  // lock-free: safe in a signal handler
struct sigaction g_previous {};

void on_progress_sigint(int) {
  // The second Ctrl-C: the default action (the process ends with SIGINT's status).
  if (g_interrupts.fetch_add(1) + 1 >= 2) {
    ::signal(SIGINT, SIG_DFL);
    ::raise(SIGINT);
  }
}

size_t terminal_width() {
  winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10) return ws.ws_col;
  return 100;
}

}  // namespace

ProgressLine::ProgressLine(Progress& progress, Mode mode) : progress_(progress), mode_(mode) {
  g_interrupts.store(0);
  struct sigaction sa {};
  sa.sa_handler = on_progress_sigint;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, &g_previous);
  thread_ = std::thread([this] { loop(); });
}

ProgressLine::~ProgressLine() {
  {
    const std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  if (line_shown_) std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
  ::sigaction(SIGINT, &g_previous, nullptr);
}

void ProgressLine::print(const std::string& text) {
  const std::lock_guard lock(mutex_);
  if (mode_ == Mode::kQuiet) return;
  if (line_shown_) std::fputs("\r\033[K", stderr);
  line_shown_ = false;
  std::fprintf(stderr, "%s\n", text.c_str());
  draw_locked(true);
}

void ProgressLine::loop() {
  std::unique_lock lock(mutex_);
  while (!cv_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stop_; })) {
    if (g_interrupts.load() > 0 && !progress_.cancelled()) {
      progress_.cancel("interrupted (Ctrl-C)");
    }
    draw_locked(false);
  }
}

void ProgressLine::draw_locked(bool force) {
  if (mode_ == Mode::kQuiet) return;
  const Progress::Snapshot s = progress_.snapshot();
  if (s.step.empty()) return;
  if (mode_ == Mode::kTerminal) {
    std::string line = s.line();
    const size_t width = terminal_width() - 1;
    if (line.size() > width) line.resize(width);
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
    line_shown_ = true;
    return;
  }
  // Plain: when the step changes and every 10 s.
  if (!force && s.step == last_step_ && s.total_seconds - last_plain_ < 10) return;
  if (force && s.step == last_step_) return;
  last_step_ = s.step;
  last_plain_ = s.total_seconds;
  std::fprintf(stderr, "%s\n", s.line().c_str());
  std::fflush(stderr);
}

}  // namespace reco::cli
