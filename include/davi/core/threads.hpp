#pragma once
// Thread count: LibTorch from Debian starts with 1 thread on small machines, so davi sets it explicitly.
#include <ATen/Parallel.h>
#include <thread>

namespace davi {

/// Sets LibTorch's intra-op thread count; n <= 0 means every hardware thread. Returns the count in force.
inline int set_threads(int n = 0) {
  if (n <= 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(n);
  return at::get_num_threads();
}

}  // namespace davi
