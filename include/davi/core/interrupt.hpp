#pragma once
// SIGINT and SIGTERM during training: while an InterruptScope lives, the first such signal only sets a flag,
// which the training loop reads between steps (it then writes a checkpoint at the current step and stops
// with Interrupted); a second signal ends the process at once, as without the scope. Outside a scope the
// signals keep their usual effect (nothing else holds state worth saving; every file is written atomically).
#include <signal.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "davi/core/check.hpp"

namespace davi {

/// Training stopped by a signal after saving its state; davi_run exits with 128 + signal.
struct Interrupted : Error {
  Interrupted(int signal, const std::string& message) : Error(message), signal(signal) {}
  int signal;
};

namespace detail {
inline std::atomic<int>& pending_signal() {
  static std::atomic<int> signal{0};
  return signal;
}
extern "C" inline void note_interrupt(int signal) {
  if (pending_signal().exchange(signal) != 0) {  // the second signal: the usual effect, now
    ::signal(signal, SIG_DFL);
    ::raise(signal);
  }
}
}  // namespace detail

class InterruptScope {
 public:
  InterruptScope() {
    detail::pending_signal() = 0;
    struct sigaction action {};
    action.sa_handler = detail::note_interrupt;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, &previous_int_);
    ::sigaction(SIGTERM, &action, &previous_term_);
  }
  ~InterruptScope() {
    ::sigaction(SIGINT, &previous_int_, nullptr);
    ::sigaction(SIGTERM, &previous_term_, nullptr);
  }
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

  /// The signal received since the scope opened, or 0.
  static int pending() { return detail::pending_signal().load(); }

 private:
  struct sigaction previous_int_ {}, previous_term_ {};
};

inline const char* signal_name(int signal) { return signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "a signal"; }

}  // namespace davi
