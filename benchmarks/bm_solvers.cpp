// One step of each baseline with the prior-sized UNet on 28 x 28 deblurring, at batch 1, 32 and 64, on
// the fp32/NCHW and the fast path (benchmarks/bench_paths.hpp): a solve with steps = 1 is one step (one
// network evaluation; DPS and PiGDM add one backprop through it, to the input only). A whole solve costs
// about `steps` times this (DDRM 20, DDNM and PiGDM 100, DPS and RED-diff 1000). FLOPs: the network's,
// one forward per evaluation and about one more per backprop. The classical solvers are whole solves,
// without a network (batch 1 and 64, no FLOP count).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "bench_paths.hpp"
#include "davi/core/threads.hpp"
#include "davi/operators/gaussian_blur.hpp"
#include "davi/prior/score_prior.hpp"
#include "davi/schedules/sqrt_linear.hpp"
#include "davi/solvers/solvers.hpp"

using namespace davi;

namespace {

/// The deblurring problem every case solves: operator, noise, a random prior-sized prior, measurements.
struct Deblurring {
  operators::GaussianBlur op{{.kernel_size = 11, .sigma = 1.5, .sv_threshold = 0.03}, {1, 28, 28}};
  operators::GaussianNoise noise{{.sigma_y = 0.05}};
  networks::UNet net{networks::UNetOptions{}};
  prior::ScorePrior prior{net, schedules::SqrtLinear()};
  Rng rng{1};
  at::Tensor y;
  explicit Deblurring(std::int64_t batch) : y(noise.apply(op.forward(at::rand({batch, 1, 28, 28}) * 2 - 1), rng)) {}
};

template <class Solver>
void BM_SolverStep(benchmark::State& state) {
  set_threads(0);
  const auto compute = bench::path(state.range(1));
  ComputeScope scope(compute);
  Deblurring p(state.range(0));
  auto& [op, noise, net, prior, rng, y] = p;
  typename Solver::Options options;
  if constexpr (requires { options.steps; }) options.steps = 1;
  const Solver solver(options);
  Cost cost;
  bench::warm_up([&] { solver.solve(y, op, noise, prior, rng, cost); });
  cost = Cost{};
  for (auto _ : state) benchmark::DoNotOptimize(solver.solve(y, op, noise, prior, rng, cost));
  const double iterations = static_cast<double>(state.iterations());
  const double network_passes = (cost.network_evaluations + cost.network_backprops) / iterations;
  bench::report(state, compute, network_passes * bench::unet_forward_flops(net, state.range(0)), state.range(0));
  state.counters["nfe"] = cost.network_evaluations / iterations;
  state.counters["backprops"] = cost.network_backprops / iterations;
}

#define DAVI_SOLVER_BENCHMARK(S) BENCHMARK_TEMPLATE(BM_SolverStep, S)->Apply(bench::batches_and_paths)

DAVI_SOLVER_BENCHMARK(solvers::Ddrm);
DAVI_SOLVER_BENCHMARK(solvers::Ddnm);
DAVI_SOLVER_BENCHMARK(solvers::Pigdm);
DAVI_SOLVER_BENCHMARK(solvers::Dps);
DAVI_SOLVER_BENCHMARK(solvers::Reddiff);

template <class Solver>
void BM_ClassicalSolve(benchmark::State& state) {
  set_threads(0);
  Deblurring p(state.range(0));
  auto& [op, noise, net, prior, rng, y] = p;
  const Solver solver(typename Solver::Options{});
  Cost cost;
  for (auto _ : state) benchmark::DoNotOptimize(solver.solve(y, op, noise, prior, rng, cost));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

BENCHMARK_TEMPLATE(BM_ClassicalSolve, solvers::Pinv)->ArgName("batch")->Arg(1)->Arg(64)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_ClassicalSolve, solvers::Tikhonov)->ArgName("batch")->Arg(1)->Arg(64)->Unit(benchmark::kMillisecond);

}  // namespace
