// One step of each baseline with the prior-sized UNet on 28 x 28 deblurring, at batch 1 and 64: a solve
// with steps = 1 is one step (one network evaluation; DPS and PiGDM add one backprop through it). A
// whole solve costs about `steps` times this (DDRM 20, DDNM and PiGDM 100, DPS and RED-diff 1000).
// The classical solvers are whole solves. Weights are random: the cost does not depend on them.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "davi/core/threads.hpp"
#include "davi/operators/gaussian_blur.hpp"
#include "davi/prior/score_prior.hpp"
#include "davi/schedules/sqrt_linear.hpp"
#include "davi/solvers/solvers.hpp"

using namespace davi;

namespace {

template <class Solver>
void BM_SolverStep(benchmark::State& state) {
  set_threads(0);
  networks::UNet net(networks::UNetOptions{});
  prior::ScorePrior prior(net, schedules::SqrtLinear());
  const operators::GaussianBlur op({.kernel_size = 11, .sigma = 1.5, .sv_threshold = 0.03}, {1, 28, 28});
  const operators::GaussianNoise noise({.sigma_y = 0.05});
  Rng rng(1);
  const auto y = noise.apply(op.forward(at::rand({state.range(0), 1, 28, 28}) * 2 - 1), rng);
  typename Solver::Options options;
  if constexpr (requires { options.steps; }) options.steps = 1;
  const Solver solver(options);
  Cost cost;
  for (auto _ : state) benchmark::DoNotOptimize(solver.solve(y, op, noise, prior, rng, cost));
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["nfe"] = benchmark::Counter(static_cast<double>(cost.network_evaluations),
                                             benchmark::Counter::kAvgIterations);
  state.counters["backprops"] = benchmark::Counter(static_cast<double>(cost.network_backprops),
                                                   benchmark::Counter::kAvgIterations);
}

#define DAVI_SOLVER_BENCHMARK(S) \
  BENCHMARK_TEMPLATE(BM_SolverStep, S)->ArgName("batch")->Arg(1)->Arg(64)->Unit(benchmark::kMillisecond)

DAVI_SOLVER_BENCHMARK(solvers::Ddrm);
DAVI_SOLVER_BENCHMARK(solvers::Ddnm);
DAVI_SOLVER_BENCHMARK(solvers::Pigdm);
DAVI_SOLVER_BENCHMARK(solvers::Dps);
DAVI_SOLVER_BENCHMARK(solvers::Reddiff);
DAVI_SOLVER_BENCHMARK(solvers::Pinv);
DAVI_SOLVER_BENCHMARK(solvers::Tikhonov);

}  // namespace
