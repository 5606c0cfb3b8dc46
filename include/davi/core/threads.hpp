#pragma once
// Thread count: LibTorch from Debian starts with 1 thread on small machines, so davi sets it explicitly.
#include <ATen/Parallel.h>
#include <algorithm>
#include <thread>

namespace davi {

/// How many processes share this machine's hardware threads (several ranks of a job on one machine).
inline int& thread_sharers() {
  static int sharers = 1;
  return sharers;
}

/// Sets LibTorch's intra-op thread count; n <= 0 means every hardware thread, divided among
/// thread_sharers() processes. Returns the count in force.
inline int set_threads(int n = 0) {
  if (n <= 0) n = std::max(1, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) / thread_sharers());
  at::set_num_threads(n);
  return at::get_num_threads();
}

}  // namespace davi
