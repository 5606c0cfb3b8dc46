#pragma once
// Progress of long loops: a redrawn bar with rate and ETA on a terminal, plain periodic lines otherwise.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "davi/core/timer.hpp"

namespace davi {

class Progress {
 public:
  Progress(std::string label, long total, long start = 0, double line_every_seconds = 30.0)
      : label_(std::move(label)), total_(total), start_(start), line_every_(line_every_seconds),
        tty_(::isatty(STDERR_FILENO) != 0) {}

  /// Reports `done` of `total`; `note` is appended (for example the current loss). An empty label is silent
  /// (the data-parallel processes other than rank 0).
  void update(long done, const std::string& note = "") {
    if (label_.empty()) return;
    const double elapsed = timer_.seconds();
    const bool last = done >= total_;
    if (!last && elapsed - last_print_ < (tty_ ? 0.2 : line_every_)) return;
    last_print_ = elapsed;
    const double rate = elapsed > 0 ? (done - start_) / elapsed : 0;
    const double eta = rate > 0 ? (total_ - done) / rate : 0;
    if (tty_) {
      const int width = 30, filled = total_ > 0 ? static_cast<int>(width * done / total_) : width;
      std::fprintf(stderr, "\r%s [%s%s] %ld/%ld %.2f it/s ETA %s %s", label_.c_str(), std::string(filled, '#').c_str(),
                   std::string(width - filled, '.').c_str(), done, total_, rate, clock(eta).c_str(), note.c_str());
      if (last) std::fputc('\n', stderr);
    } else {
      std::fprintf(stderr, "%s %ld/%ld %.2f it/s ETA %s %s\n", label_.c_str(), done, total_, rate, clock(eta).c_str(),
                   note.c_str());
    }
    std::fflush(stderr);
  }

 private:
  static std::string clock(double seconds) {
    const long s = static_cast<long>(seconds);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    return buf;
  }
  std::string label_;
  long total_, start_;
  double line_every_;
  bool tty_;
  Timer timer_;
  double last_print_ = -1e9;
};

}  // namespace davi
