// The prior's UNet (the configuration of experiments/train_prior.json): forward, forward + backward,
// and one prior DSM training step (forward, backward, AdamW), at batch 1, 32 and 64, on the fp32/NCHW
// path and the bf16/channels_last path (benchmarks/bench_paths.hpp), plus the two mixed paths at batch 64.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "bench_paths.hpp"
#include "davi/core/threads.hpp"
#include "davi/networks/unet.hpp"
#include "davi/prior/prior_trainer.hpp"
#include "davi/schedules/sqrt_linear.hpp"

using namespace davi;

namespace {

struct Inputs {
  at::Tensor x, t;
  explicit Inputs(std::int64_t batch)
      : x(at::randn({batch, 1, 28, 28})), t(at::randint(0, 1000, {batch}, at::kLong)) {}
};

void BM_UNetForward(benchmark::State& state) {
  set_threads(0);
  const auto compute = bench::path(state.range(1));
  ComputeScope scope(compute);
  networks::UNet net(networks::UNetOptions{});  // defaults = the committed prior's architecture
  net->eval();
  const Inputs in(state.range(0));
  torch::NoGradGuard no_grad;
  const double flops = bench::unet_forward_flops(net, state.range(0));
  bench::warm_up([&] { net->forward(in.x, in.t); });
  for (auto _ : state) benchmark::DoNotOptimize(net->forward(in.x, in.t));
  bench::report(state, compute, flops, state.range(0));
  state.counters["parameters"] = static_cast<double>(networks::parameter_count(*net));
}

void BM_UNetForwardBackward(benchmark::State& state) {
  set_threads(0);
  const auto compute = bench::path(state.range(1));
  ComputeScope scope(compute);
  networks::UNet net(networks::UNetOptions{});
  const Inputs in(state.range(0));
  const double flops = 3 * bench::unet_forward_flops(net, state.range(0));  // backward ~ 2 forwards
  const auto step = [&] {
    net->zero_grad();
    net->forward(in.x, in.t).square().mean().backward();
  };
  bench::warm_up(step);
  for (auto _ : state) step();
  bench::report(state, compute, flops, state.range(0));
}

/// One step of the prior's training (experiments/train_prior.json's settings): DSM loss, backward,
/// gradient clipping, AdamW, EMA.
void BM_PriorDsmStep(benchmark::State& state) {
  set_threads(0);
  const auto compute = bench::path(state.range(1));
  ComputeScope scope(compute);
  prior::PriorTrainingOptions options;
  options.batch_size = static_cast<int>(state.range(0));
  const auto images = at::rand({256, 1, 28, 28}) * 2 - 1;
  prior::PriorTrainer trainer({}, schedules::SqrtLinear(), {}, options, images, 0, c10::kCPU);
  Rng batches(1);
  auto net = trainer.ema_prior().net();  // same architecture as the trained network
  const double flops = 3 * bench::unet_forward_flops(net, state.range(0));
  bench::warm_up([&] { trainer.train_step(batches); });
  for (auto _ : state) benchmark::DoNotOptimize(trainer.train_step(batches));
  bench::report(state, compute, flops, state.range(0));
}

BENCHMARK(BM_UNetForward)->Apply(bench::batches_and_paths);
BENCHMARK(BM_UNetForward)->ArgNames({"batch", "path"})->Args({64, 2})->Args({64, 3})->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_UNetForwardBackward)->Apply(bench::batches_and_paths);
BENCHMARK(BM_UNetForwardBackward)->ArgNames({"batch", "path"})->Args({64, 2})->Args({64, 3})->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_PriorDsmStep)->Apply(bench::batches_and_paths);

}  // namespace
