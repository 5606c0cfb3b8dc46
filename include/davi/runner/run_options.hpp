#pragma once
// The keys every experiment file has at its top level, read by each kind's config through
// `run.visit(v)` so they sit at the same JSON level as the kind's own sections.
#include <cstdint>
#include <string>

#include "davi/core/device.hpp"
#include "davi/core/threads.hpp"

namespace davi::runner {

struct RunOptions {
  std::string kind;    // set by each kind's Config
  std::string output;  // "" = results/<experiment file name without .json>
  std::int64_t seed = 0;
  std::string device = "cpu";
  int threads = 0;

  template <class V>
  void visit(V&& v) {
    v("kind", kind, "what the file runs: inverse_problem (default), train_prior or train_classifier");
    v("output", output, "output folder (default results/<file name>); inverse_problem runs go to <output>/<run_id>");
    v("seed", seed, "seed of every random stream");
    v("device", device, "cpu, cuda, cuda:N or auto");
    v("threads", threads, "CPU threads (0 = all hardware threads)");
  }
};

/// The defaults of a kind's config: every key at its default, `kind` set.
inline RunOptions run_options_of(std::string kind) {
  RunOptions run;
  run.kind = std::move(kind);
  return run;
}

/// Device and thread count in force for a run.
struct RunPlace {
  c10::Device device;
  int threads;
};

inline RunPlace enter(const RunOptions& run) { return {select_device(run.device), set_threads(run.threads)}; }

}  // namespace davi::runner
