#pragma once
// RED-diff (Mardani et al. 2024): the image itself is optimised with Adam, from the pseudo-inverse,
// while the diffusion time runs from T-1 to 0; each step draws x_t = sqrt(ab) mu + sqrt(1 - ab) e and
// minimises
//   mean((y - A mu)^2) / 2 + lambda (sqrt(1 - ab) / sqrt(ab)) mean(sg(eps(x_t, t) - e) * mu)
// (the official "linear" 1/SNR weighting; the regulariser's gradient needs no backprop through the
// network). One network evaluation per step, no backprops. SVD tier: the start is A^+ y.
#include <torch/torch.h>

#include <cmath>
#include <string_view>

#include "davi/core/options.hpp"
#include "davi/concepts.hpp"
#include "davi/operators/noise.hpp"
#include "davi/core/check.hpp"
#include "davi/solvers/diffusion_steps.hpp"

namespace davi::solvers {

class Reddiff {
 public:
  static constexpr std::string_view name = "reddiff";
  static constexpr std::string_view required_tier = "svd";
  struct Options {
    int steps = 1000;
    double lr = 0.02;
    double lambda = 0.25;
    template <class V>
    void visit(V&& v) {
      v("steps", steps, "Adam steps, one network evaluation each (paper: 1000)", at_least(1));
      v("lr", lr, "Adam learning rate (official scripts: 0.1 to 0.5; tuned here: 0.02)", greater_than(0));
      v("lambda", lambda, "weight of the diffusion regulariser (official: 0.25)", at_least(0));
    }
  };
  Reddiff() : Reddiff(Options{}) {}
  explicit Reddiff(const Options& o) : options_(o) {
    check_options(o, name);
  }

  template <SvdOperator Op, EpsilonModel Prior>
  at::Tensor solve(const at::Tensor& y, const Op& op, const operators::GaussianNoise&, Prior& prior, Rng& rng,
                   Cost& cost) const {
    const auto& schedule = prior.schedule();
    const auto times = descending_times(schedule.num_steps(), options_.steps, "reddiff");
    auto mu = op.pinv(y).detach().clone().requires_grad_(true);
    torch::optim::Adam adam({mu}, torch::optim::AdamOptions(options_.lr).betas({0.9, 0.99}));
    for (const int t : times) {
      const double ab = schedule.alpha_bar_at(t);
      const auto e = rng.randn(mu.sizes(), mu.scalar_type());
      at::Tensor eps;
      {
        at::NoGradGuard no_grad;
        eps = eps_at(prior, std::sqrt(ab) * mu + std::sqrt(1 - ab) * e, t, cost);
      }
      torch::AutoGradMode enable(true);
      const auto fidelity = (y - op.forward(mu)).square().mean() / 2;
      const auto regulariser = ((eps - e) * mu).mean();
      const auto loss = fidelity + options_.lambda * std::sqrt((1 - ab) / ab) * regulariser;
      adam.zero_grad();
      loss.backward();
      adam.step();
    }
    return mu.detach();
  }

 private:
  Options options_;
};

}  // namespace davi::solvers
