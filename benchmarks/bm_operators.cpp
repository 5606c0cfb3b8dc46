// Forward and adjoint of every operator on Fashion-MNIST-sized images (3 channels for colorization),
// at batch 1 and 64, float32, with every hardware thread.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "davi/core/threads.hpp"
#include "davi/operators/operators.hpp"

using namespace davi;
using namespace davi::operators;

namespace {

template <class Op>
Op make();
template <>
Identity make() { return Identity({1, 28, 28}); }
template <>
GaussianBlur make() { return GaussianBlur({.kernel_size = 9, .sigma = 1.5, .sv_threshold = 0.03}, {1, 28, 28}); }
template <>
SuperResolution make() { return SuperResolution({.factor = 4}, {1, 28, 28}); }
template <>
BoxInpainting make() { return BoxInpainting({.box_size = 14}, {1, 28, 28}); }
template <>
RandomInpainting make() { return RandomInpainting({.missing_fraction = 0.5}, {1, 28, 28}); }
template <>
Colorization make() { return Colorization({3, 28, 28}); }

template <class Op>
void BM_Forward(benchmark::State& state) {
  set_threads(0);
  const Op op = make<Op>();
  auto shape = op.image_shape();
  shape.insert(shape.begin(), state.range(0));
  const auto x = at::randn(shape);
  for (auto _ : state) benchmark::DoNotOptimize(op.forward(x));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

template <class Op>
void BM_Adjoint(benchmark::State& state) {
  set_threads(0);
  const Op op = make<Op>();
  auto shape = op.measurement_shape(op.image_shape());
  shape.insert(shape.begin(), state.range(0));
  const auto y = at::randn(shape);
  for (auto _ : state) benchmark::DoNotOptimize(op.adjoint(y));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

#define DAVI_OPERATOR_BENCHMARKS(Op)                 \
  BENCHMARK_TEMPLATE(BM_Forward, Op)->Arg(1)->Arg(64); \
  BENCHMARK_TEMPLATE(BM_Adjoint, Op)->Arg(1)->Arg(64);

DAVI_OPERATOR_BENCHMARKS(Identity)
DAVI_OPERATOR_BENCHMARKS(GaussianBlur)
DAVI_OPERATOR_BENCHMARKS(SuperResolution)
DAVI_OPERATOR_BENCHMARKS(BoxInpainting)
DAVI_OPERATOR_BENCHMARKS(RandomInpainting)
DAVI_OPERATOR_BENCHMARKS(Colorization)

}  // namespace
