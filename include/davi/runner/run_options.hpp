#pragma once
// The keys every experiment file has at its top level, read by each kind's config through
// `run.visit(v)` so they sit at the same JSON level as the kind's own sections.
#include <cstdint>
#include <string>
#include <thread>

#include "davi/core/cuda_settings.hpp"
#include "davi/core/device.hpp"
#include "davi/core/precision.hpp"
#include "davi/core/threads.hpp"

namespace davi::runner {

struct RunOptions {
  std::string kind;    // set by each kind's Config
  std::string output;  // "" = results/<experiment file name without .json>
  std::int64_t seed = 0;
  std::string device = "cpu";
  int threads = 0;
  std::string precision = "auto";
  std::string memory_format = "auto";
  CudaOptions cuda;

  template <class V>
  void visit(V&& v) {
    v("kind", kind, "what the file runs: inverse_problem (default), train_prior, train_classifier or evaluate_prior");
    v("output", output, "output folder (default results/<file name>); inverse_problem runs go to <output>/<run_id>");
    v("seed", seed, "seed of every random stream");
    v("device", device, "cpu, cuda, cuda:N or auto (CUDA when visible; resolved before the run id)");
    v("threads", threads, "CPU threads (0 = OMP_NUM_THREADS where set, else all hardware threads; at most 4 per hardware thread)", in_range(0, 4096));
    v("precision", precision,
      "network arithmetic: fp32, bf16 (mixed precision: bf16 convolutions and products, fp32 weights, "
      "statistics and losses) or auto (the fastest measured on the device; resolved before the run id)");
    v("memory_format", memory_format, "layout of network activations: nchw, channels_last or auto (as precision)");
    v("cuda", cuda, "CUDA switches (no effect on the CPU)");
  }
};

/// The defaults of a kind's config: every key at its default, `kind` set.
inline RunOptions run_options_of(std::string kind) {
  RunOptions run;
  run.kind = std::move(kind);
  return run;
}

/// Replaces "auto" (and "cuda") in device, precision and memory_format by what they mean on this machine,
/// so the resolved config, the run id and metrics.json name the setting actually used; throws a one-line
/// error on an unknown value or a device this machine does not have.
inline void resolve_run_options(RunOptions& run) {
  const int hardware = hardware_threads();
  DAVI_CHECK(run.threads <= 4 * hardware, "threads: expected a value in [0, ", 4 * hardware,
             "] (4 per hardware thread of this machine), got ", run.threads);
  if (run.threads == 0) threads_from_environment();  // a bad OMP_NUM_THREADS is refused before any work
  const auto device = select_device(run.device);
  run.device = device.str();
  const auto c = resolve_compute(run.precision, run.memory_format, device);
  run.precision = to_string(c.precision);
  run.memory_format = to_string(c.memory_format);
}

/// Device, thread count and compute setting in force for a run.
struct RunPlace {
  c10::Device device;
  int threads;
  Compute compute;
};

/// Selects the run's device and thread count and sets the CUDA switches. The caller opens a
/// ComputeScope(place.compute) around the work whose networks should use the run's precision and layout.
inline RunPlace enter(const RunOptions& run) {
  const auto device = select_device(run.device);
  apply_cuda_options(run.cuda);
  return {device, set_threads(run.threads), resolve_compute(run.precision, run.memory_format, device)};
}

}  // namespace davi::runner
