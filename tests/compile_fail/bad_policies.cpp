// Compile-fail checks for DAVI's policies: a Bridge without test_input (DAVI_TEST_BAD_BRIDGE), a
// Divergence without weight (DAVI_TEST_BAD_DIVERGENCE), t_max (DAVI_TEST_NO_T_MAX) or its surrogate
// (DAVI_TEST_NO_SURROGATE) handed to Davi<...> must fail with a message naming the missing member. Built once more with DAVI_TEST_COMPLETE,
// where it must compile: the explicit instantiation below compiles every member of Davi (train_step,
// sample, save, load), so the complete policies are shown to be enough for the whole trainer.
#include "davi/amortized/davi.hpp"
#include "davi/bridges/ppb.hpp"
#include "davi/networks/time_mlp.hpp"
#include "davi/objectives/ikl.hpp"
#include "davi/operators/identity.hpp"
#include "davi/schedules/sqrt_linear.hpp"

using namespace davi;

struct HandMadeBridge {
  static constexpr std::string_view name = "hand_made_bridge";
  struct Options {
    template <class V>
    void visit(V&&) {}
  };
  HandMadeBridge(const Options&, const schedules::DiscreteSchedule&) {}
  BridgeInput train_input(const at::Tensor& x0, const at::Tensor& y_lift, Rng&) const { return {y_lift, {}}; }
#if defined(DAVI_TEST_COMPLETE) || !defined(DAVI_TEST_BAD_BRIDGE)
  BridgeInput test_input(const at::Tensor& y_lift, Rng&) const { return {y_lift, {}}; }
#endif
  at::Tensor sigma_f(const at::Tensor& t) const { return t; }
};

struct HandMadeDivergence {
  static constexpr std::string_view name = "hand_made_divergence";
  struct Options {
    template <class V>
    void visit(V&&) {}
  };
  HandMadeDivergence(const Options&, const schedules::DiscreteSchedule&) {}
  at::Tensor sample_times(std::int64_t n, Rng& rng) const { return rng.randint(0, 10, {n}); }
#if defined(DAVI_TEST_COMPLETE) || !defined(DAVI_TEST_BAD_DIVERGENCE)
  at::Tensor weight(const at::Tensor& t) const { return t; }
#endif
#if defined(DAVI_TEST_COMPLETE) || !defined(DAVI_TEST_NO_T_MAX)
  int t_max() const { return 10; }
#endif
#if defined(DAVI_TEST_COMPLETE) || !defined(DAVI_TEST_NO_SURROGATE)
  at::Tensor surrogate(const at::Tensor& x_hat, const EpsilonFunction& teacher, const EpsilonFunction& fake_score,
                       const schedules::DiscreteSchedule& schedule, Rng& rng) const {
    const auto t = sample_times(x_hat.size(0), rng);
    return objectives::score_difference_surrogate(x_hat, t, t.to(at::kFloat), teacher, fake_score, schedule, rng);
  }
#endif
};

template class davi::amortized::Davi<operators::Identity, HandMadeDivergence, HandMadeBridge, networks::TimeMlp>;

int main() { return 0; }
