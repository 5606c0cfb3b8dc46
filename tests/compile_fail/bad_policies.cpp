// Compile-fail checks for DAVI's policies: a Bridge without test_input (DAVI_TEST_BAD_BRIDGE) or a
// Divergence without weight (DAVI_TEST_BAD_DIVERGENCE) handed to Davi<...> must fail with a message
// naming the missing member. Built once more with DAVI_TEST_COMPLETE, where it must compile.
#include "davi/amortized/davi.hpp"
#include "davi/bridges/ppb.hpp"
#include "davi/networks/time_mlp.hpp"
#include "davi/objectives/ikl.hpp"
#include "davi/operators/identity.hpp"
#include "davi/schedules/sqrt_linear.hpp"

using namespace davi;

struct HandMadeBridge {
  struct Options {};
  BridgeInput train_input(const at::Tensor& x0, const at::Tensor& y_lift, Rng&) const { return {y_lift, {}}; }
#if defined(DAVI_TEST_COMPLETE) || !defined(DAVI_TEST_BAD_BRIDGE)
  BridgeInput test_input(const at::Tensor& y_lift, Rng&) const { return {y_lift, {}}; }
#endif
  at::Tensor sigma_f(const at::Tensor& t) const { return t; }
};

struct HandMadeDivergence {
  struct Options {};
  at::Tensor sample_times(std::int64_t n, Rng& rng) const { return rng.randint(0, 10, {n}); }
#if defined(DAVI_TEST_COMPLETE) || !defined(DAVI_TEST_BAD_DIVERGENCE)
  at::Tensor weight(const at::Tensor& t) const { return t; }
#endif
};

static_assert(sizeof(amortized::Davi<operators::Identity, schedules::SqrtLinear, HandMadeDivergence, HandMadeBridge,
                                     networks::TimeMlp>) > 0);

int main() { return 0; }
