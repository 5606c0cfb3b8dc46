#pragma once
// What the benchmark programs share: the compute paths they compare, selected by a "path" argument
//   0 = fp32, NCHW          (the path every result before the precision option used)
//   1 = bf16, channels_last (the fast path on CPUs with bf16 arithmetic)
//   2 = fp32, channels_last
//   3 = bf16, NCHW
// (2 and 3 separate the two changes for docs/performance.md), and FLOP counters, so that Google
// Benchmark prints GFLOP/s next to each time. tools/bench_report.py turns the JSON into speed-up ratios.
#include <benchmark/benchmark.h>

#include <functional>

#include "davi/core/precision.hpp"
#include "davi/networks/mixed_precision.hpp"
#include "davi/networks/unet.hpp"

namespace davi::bench {

inline Compute path(std::int64_t index) {
  switch (index) {
    case 1: return {Precision::bf16, MemoryFormat::channels_last};
    case 2: return {Precision::fp32, MemoryFormat::channels_last};
    case 3: return {Precision::bf16, MemoryFormat::nchw};
    default: return {};
  }
}

/// "fp32/nchw", "bf16/channels_last", ...
inline std::string path_label(const Compute& c) { return std::string(to_string(c.precision)) + "/" + to_string(c.memory_format); }

/// FLOPs (convolutions, linear layers, batched products) of what `work` runs once, forward passes only.
inline double forward_flops(const std::function<void()>& work) {
  networks::FlopCounter counter;
  work();
  return static_cast<double>(counter.flops());
}

/// FLOPs of one forward pass of `net` on `batch` images (the count does not depend on the values).
inline double unet_forward_flops(networks::UNet& net, std::int64_t batch) {
  const auto& o = net->options();
  torch::NoGradGuard no_grad;
  return forward_flops([&] {
    net->forward(at::zeros({batch, o.image_channels, o.image_size, o.image_size}), at::zeros({batch}, at::kLong));
  });
}

/// Reports `flops_per_iteration` as a rate (Google Benchmark prints it as FLOPS=...G/s) and items.
inline void report(benchmark::State& state, const Compute& c, double flops_per_iteration, std::int64_t items) {
  state.SetLabel(path_label(c));
  state.SetItemsProcessed(state.iterations() * items);
  state.counters["FLOPS"] = benchmark::Counter(flops_per_iteration, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["flops_per_item"] = flops_per_iteration / static_cast<double>(items);
}

/// Runs `work` twice before timing: oneDNN creates its kernels and the allocator its pools on the first
/// calls, which would otherwise dominate cases that run for one or two iterations.
template <class Work>
void warm_up(Work&& work) {
  work();
  work();
}

/// The batches and paths every network benchmark covers: {1, 32, 64} x {fp32/NCHW, bf16/channels_last}.
inline void batches_and_paths(benchmark::internal::Benchmark* b) {
  b->ArgNames({"batch", "path"})->ArgsProduct({{1, 32, 64}, {0, 1}})->Unit(benchmark::kMillisecond)->MinTime(2.0);
}

}  // namespace davi::bench
