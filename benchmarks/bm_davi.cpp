// DAVI with the prior-sized UNet on 28 x 28 deblurring: one training step (psi-step + phi-step + EMA)
// and one-step inference, at batch 1, 32 and 64, on the fp32/NCHW and the fast path
// (benchmarks/bench_paths.hpp). Weights are random: the cost does not depend on them.
// FLOPs: a training step runs the UNet forward 5 times (generator twice, fake score twice, teacher
// once) and backward through two of them (fake score in the psi-step, generator in the phi-step), about
// 9 forward-equivalents; inference is one forward. The adversarial term (on by default) is left out, so
// the numbers stay comparable with docs/performance.md; it adds a small PatchGAN's forward and backward.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "bench_paths.hpp"
#include "davi/amortized/davi.hpp"
#include "davi/bridges/ppb.hpp"
#include "davi/core/threads.hpp"
#include "davi/objectives/ikl.hpp"
#include "davi/operators/gaussian_blur.hpp"
#include "davi/schedules/sqrt_linear.hpp"

using namespace davi;

namespace {

using Deblur = amortized::Davi<operators::GaussianBlur, objectives::Ikl, bridges::Ppb>;

Deblur make_davi() {
  networks::UNet prior_net(networks::UNetOptions{});
  prior::ScorePrior p(prior_net, schedules::SqrtLinear());
  return Deblur::from_prior(p, operators::GaussianBlur({.kernel_size = 11, .sigma = 1.5}, {1, 28, 28}),
                            operators::GaussianNoise({.sigma_y = 0.05}), {.adversarial = false}, {.t_max = 400}, {.h = 0.1}, 0);
}

void BM_DaviTrainStep(benchmark::State& state) {
  set_threads(0);
  const auto compute = bench::path(state.range(1));
  ComputeScope scope(compute);
  auto davi = make_davi();
  const auto x0 = at::rand({state.range(0), 1, 28, 28}) * 2 - 1;
  bench::warm_up([&] { davi.train_step(x0); });
  for (auto _ : state) benchmark::DoNotOptimize(davi.train_step(x0).total);
  bench::report(state, compute, 9 * bench::unet_forward_flops(davi.generator(), state.range(0)), state.range(0));
}

void BM_DaviOneStepInference(benchmark::State& state) {
  set_threads(0);
  const auto compute = bench::path(state.range(1));
  ComputeScope scope(compute);
  auto davi = make_davi();
  Rng rng(1);
  const auto y = davi.measure(at::rand({state.range(0), 1, 28, 28}) * 2 - 1, rng);
  bench::warm_up([&] { davi.sample(y, 1, rng); });
  for (auto _ : state) benchmark::DoNotOptimize(davi.sample(y, 1, rng));
  bench::report(state, compute, bench::unet_forward_flops(davi.generator(), state.range(0)), state.range(0));
}

BENCHMARK(BM_DaviTrainStep)->Apply(bench::batches_and_paths);
BENCHMARK(BM_DaviTrainStep)->ArgNames({"batch", "path"})->Args({32, 2})->Args({32, 3})->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_DaviOneStepInference)->Apply(bench::batches_and_paths);

}  // namespace
