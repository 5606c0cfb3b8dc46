#pragma once
// The keys every experiment file has at its top level, read by each task's options through
// `run.visit(v)` so they sit at the same JSON level as the task's own keys.
#include <cstdint>
#include <string>

#include "davi/core/device.hpp"
#include "davi/core/threads.hpp"

namespace davi::runner {

struct RunOptions {
  std::string task;
  std::string output;
  std::int64_t seed = 0;
  std::string device = "cpu";
  int threads = 0;

  template <class V>
  void visit(V&& v) {
    v("task", task, "what to run");
    v("output", output, "output folder");
    v("seed", seed, "seed of every random stream");
    v("device", device, "cpu, cuda, cuda:N or auto");
    v("threads", threads, "CPU threads (0 = all hardware threads)");
  }
};

/// Device and thread count in force for a run.
struct RunPlace {
  c10::Device device;
  int threads;
};

inline RunPlace enter(const RunOptions& run) { return {select_device(run.device), set_threads(run.threads)}; }

}  // namespace davi::runner
