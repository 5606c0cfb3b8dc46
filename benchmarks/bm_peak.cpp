// The machine's ceilings, measured in the same run as the other benchmarks so that their GFLOP/s can be
// read against them: GEMM 2048 x 2048 in fp32 and bf16, and the 3x3 convolutions of the prior's UNet
// (channels x side: 32 x 28, 64 x 14, 64 x 7; batch 64) in fp32/bf16 x NCHW/channels_last, forward
// and forward + backward. Plain LibTorch calls: what any network could get from this machine.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "bench_paths.hpp"
#include "davi/core/threads.hpp"

using namespace davi;

namespace {

void BM_Gemm(benchmark::State& state) {
  set_threads(0);
  const auto dtype = state.range(0) ? at::kBFloat16 : at::kFloat;
  const std::int64_t n = 2048;
  const auto a = at::randn({n, n}).to(dtype), b = at::randn({n, n}).to(dtype);
  for (auto _ : state) benchmark::DoNotOptimize(at::mm(a, b));
  state.SetLabel(state.range(0) ? "bf16" : "fp32");
  state.counters["FLOPS"] = benchmark::Counter(2.0 * n * n * n, benchmark::Counter::kIsIterationInvariantRate);
}

/// Args: channels, side, path (bench_paths.hpp), backward (0/1).
void BM_Conv3x3(benchmark::State& state) {
  set_threads(0);
  const auto channels = state.range(0), side = state.range(1);
  const auto compute = bench::path(state.range(2));
  const bool backward = state.range(3) != 0;
  const std::int64_t batch = 64;
  const auto x = at::randn({batch, channels, side, side}).to(compute.dtype()).contiguous(compute.layout())
                     .set_requires_grad(backward);
  const auto w = at::randn({channels, channels, 3, 3}).mul(0.05).to(compute.dtype()).contiguous(compute.layout())
                     .set_requires_grad(backward);
  const auto call = [&] {
    auto y = at::conv2d(x, w, {}, 1, 1);
    if (backward) y.backward(at::ones_like(y));
    return y;
  };
  bench::warm_up(call);
  for (auto _ : state) benchmark::DoNotOptimize(call());
  const double flops = 2.0 * batch * channels * channels * 9 * side * side * (backward ? 3 : 1);
  state.SetLabel(bench::path_label(compute) + (backward ? " fwd+bwd" : " fwd"));
  state.counters["FLOPS"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_Gemm)->ArgName("bf16")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Conv3x3)
    ->ArgNames({"channels", "side", "path", "backward"})
    ->ArgsProduct({{32, 64}, {28}, {0, 1, 2, 3}, {0, 1}})
    ->ArgsProduct({{64}, {14}, {0, 1, 2, 3}, {0, 1}})
    ->ArgsProduct({{64}, {7}, {0, 1, 2, 3}, {0, 1}})
    ->Unit(benchmark::kMillisecond);

}  // namespace
