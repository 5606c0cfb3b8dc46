#pragma once
// Where this process stands in a multi-process job, read from the variables torchrun sets (and Slurm or a
// user can set by hand): RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT. Without
// RANK and WORLD_SIZE the process is alone (world of one), and davi behaves exactly as a single process.
#include <charconv>
#include <cstdlib>
#include <string>
#include <string_view>

#include "davi/core/check.hpp"

namespace davi::distributed {

struct World {
  int rank = 0, size = 1;              // this process among all of the job's processes
  int local_rank = 0, local_size = 1;  // ... among those on this machine (devices, threads)
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;

  bool alone() const { return size == 1; }
  bool leader() const { return rank == 0; }
};

namespace detail {
/// The integer in environment variable `name`, or `fallback` when unset; a malformed one is refused by name.
inline int env_int(const char* name, int fallback, int low, int high) {
  const char* text = std::getenv(name);
  if (text == nullptr) return fallback;
  const std::string_view s(text);
  int value = 0;
  const auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), value);
  DAVI_CHECK(error == std::errc() && end == s.data() + s.size() && value >= low && value <= high, "environment ",
             name, ": expected an integer in [", low, ", ", high, "], got \"", echo(s), "\"");
  return value;
}
}  // namespace detail

/// The world described by the environment; one line naming the variable when it is inconsistent.
inline World world_from_environment() {
  World w;
  const bool has_rank = std::getenv("RANK") != nullptr, has_size = std::getenv("WORLD_SIZE") != nullptr;
  DAVI_CHECK(has_rank == has_size, "environment: RANK and WORLD_SIZE must be set together (torchrun sets both); ",
             has_rank ? "WORLD_SIZE" : "RANK", " is missing");
  if (!has_rank) return w;
  constexpr int kMaxWorld = 1 << 16;
  w.size = detail::env_int("WORLD_SIZE", 1, 1, kMaxWorld);
  w.rank = detail::env_int("RANK", 0, 0, w.size - 1);
  w.local_size = detail::env_int("LOCAL_WORLD_SIZE", w.size, 1, w.size);
  w.local_rank = detail::env_int("LOCAL_RANK", w.rank, 0, w.local_size - 1);
  if (const char* addr = std::getenv("MASTER_ADDR")) {
    DAVI_CHECK(*addr != '\0', "environment MASTER_ADDR: empty; expected the host name or address of rank 0");
    w.master_addr = addr;
  } else {
    DAVI_CHECK(w.size == 1, "environment: MASTER_ADDR is missing (WORLD_SIZE is ", w.size,
               "); set the host of rank 0, or launch with torchrun");
  }
  w.master_port = detail::env_int("MASTER_PORT", w.master_port, 1, 65535);
  if (std::getenv("MASTER_PORT") == nullptr)
    DAVI_CHECK(w.size == 1, "environment: MASTER_PORT is missing (WORLD_SIZE is ", w.size,
               "); set a free port on rank 0's host, or launch with torchrun");
  return w;
}

}  // namespace davi::distributed
