#pragma once
// Thread count: LibTorch from Debian starts with 1 thread on small machines, so davi sets it explicitly.
// OMP_NUM_THREADS, the knob LibTorch itself reads, is honoured: several processes on one machine (ctest -j,
// a sweep started by hand) each take their share instead of every hardware thread each.
#include <ATen/Parallel.h>
#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <string_view>
#include <thread>

#include "davi/core/check.hpp"

namespace davi {

/// How many processes share this machine's hardware threads (several ranks of a job on one machine).
inline int& thread_sharers() {
  static int sharers = 1;
  return sharers;
}

inline int hardware_threads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

/// The count OMP_NUM_THREADS asks for (its first number: OpenMP allows one per nesting level), or 0 when it
/// is unset or empty. Anything else, or more than 4 per hardware thread, is a one-line error.
inline int threads_from_environment() {
  const char* text = std::getenv("OMP_NUM_THREADS");
  if (text == nullptr || *text == '\0') return 0;
  const std::string_view value(text);
  const auto first = value.substr(0, value.find(','));
  int n = 0;
  const auto [end, ec] = std::from_chars(first.data(), first.data() + first.size(), n);
  const int limit = 4 * hardware_threads();
  DAVI_CHECK(ec == std::errc() && end == first.data() + first.size() && n >= 1 && n <= limit,
             "OMP_NUM_THREADS: expected a thread count in [1, ", limit, "] (4 per hardware thread), got \"",
             echo(value, 40), "\"");
  return n;
}

/// Sets LibTorch's intra-op thread count; n <= 0 means OMP_NUM_THREADS where it is set (per process), else
/// every hardware thread divided among thread_sharers() processes. Returns the count in force.
inline int set_threads(int n = 0) {
  if (n <= 0) n = threads_from_environment();
  if (n <= 0) n = std::max(1, hardware_threads() / thread_sharers());
  at::set_num_threads(n);
  return at::get_num_threads();
}

}  // namespace davi
