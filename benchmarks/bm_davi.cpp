// DAVI with the prior-sized UNet on 28 x 28 deblurring: one training step (psi-step + phi-step + EMA)
// and one-step inference, at batch 1 and 64. Weights are random: the cost does not depend on them.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "davi/amortized/davi.hpp"
#include "davi/bridges/ppb.hpp"
#include "davi/core/threads.hpp"
#include "davi/objectives/ikl.hpp"
#include "davi/operators/gaussian_blur.hpp"
#include "davi/schedules/sqrt_linear.hpp"

using namespace davi;

namespace {

using Deblur = amortized::Davi<operators::GaussianBlur, schedules::SqrtLinear, objectives::Ikl, bridges::Ppb>;

Deblur make_davi() {
  networks::UNet prior_net(networks::UNetOptions{});
  prior::ScorePrior p(prior_net, schedules::SqrtLinear());
  return Deblur::from_prior(p, operators::GaussianBlur({.kernel_size = 9, .sigma = 1.5}, {1, 28, 28}),
                            operators::GaussianNoise({.sigma_y = 0.05}), {}, {}, {.t_max = 400}, {.h = 0.1}, 0);
}

void BM_DaviTrainStep(benchmark::State& state) {
  set_threads(0);
  auto davi = make_davi();
  const auto x0 = at::rand({state.range(0), 1, 28, 28}) * 2 - 1;
  for (auto _ : state) benchmark::DoNotOptimize(davi.train_step(x0).total);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_DaviOneStepInference(benchmark::State& state) {
  set_threads(0);
  auto davi = make_davi();
  Rng rng(1);
  const auto y = davi.measure(at::rand({state.range(0), 1, 28, 28}) * 2 - 1, rng);
  for (auto _ : state) benchmark::DoNotOptimize(davi.sample(y, 1, rng));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

BENCHMARK(BM_DaviTrainStep)->ArgName("batch")->Arg(1)->Arg(64)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DaviOneStepInference)->ArgName("batch")->Arg(1)->Arg(64)->Unit(benchmark::kMillisecond);

}  // namespace
