#pragma once
// DPS (Chung et al. 2023): ancestral DDPM through every time, each step pulled towards the measurement
// by the gradient of the residual of Tweedie's x0, with the paper's step size:
//   x_{t-1} = DDPM(x_t, x0) - zeta / ||y - A x0|| * grad_{x_t} ||y - A x0||^2
// (the official code's `scale` is 2 zeta). The norm is per measurement: the official code takes one norm
// over the whole batch, which makes results depend on the batch size (DPS issue #12). x0 is clipped to
// [-1, 1], as there. Forward tier: the gradient goes through A by autograd. One network evaluation and
// one backprop per step.
#include <torch/torch.h>

#include <cmath>
#include <string_view>

#include "davi/core/options.hpp"
#include "davi/concepts.hpp"
#include "davi/operators/noise.hpp"
#include "davi/core/check.hpp"
#include "davi/solvers/diffusion_steps.hpp"

namespace davi::solvers {

class Dps {
 public:
  static constexpr std::string_view name = "dps";
  static constexpr std::string_view required_tier = "forward";
  struct Options {
    int steps = 1000;
    double zeta = 0.1;
    template <class V>
    void visit(V&& v) {
      v("steps", steps, "DDPM steps, each one network evaluation and one backprop (official: 1000 = every time)",
        at_least(1));
      v("zeta", zeta, "step size zeta' of the paper (official code scale = 2 zeta'; tuned here: 0.1)", in_range(0, 1e6));
    }
  };
  Dps() : Dps(Options{}) {}
  explicit Dps(const Options& o) : options_(o) {
    check_options(o, name);
  }

  template <Operator Op, EpsilonModel Prior>
  at::Tensor solve(const at::Tensor& y, const Op& op, const operators::GaussianNoise&, Prior& prior, Rng& rng,
                   Cost& cost) const {
    const auto& schedule = prior.schedule();
    const auto times = descending_times(schedule.num_steps(), options_.steps, "dps");
    at::Tensor x = rng.randn(op.lift(y).sizes(), y.scalar_type());
    const auto n = y.size(0);
    for (std::size_t k = 0; k < times.size(); ++k) {
      const int t = times[k], t_next = k + 1 < times.size() ? times[k + 1] : -1;
      const double ab = schedule.alpha_bar_at(t), ab_next = alpha_bar_or_one(schedule, t_next);
      const auto x_in = x.detach().requires_grad_(true);
      at::Tensor eps, x0, grad, norm;
      {
        torch::AutoGradMode enable(true);
        eps = eps_at(prior, x_in, t, cost);
        x0 = x0_from_eps(x_in, eps, ab).clamp(-1, 1);
        const auto squared = (y - op.forward(x0)).reshape({n, -1}).square().sum(1);
        grad = torch::autograd::grad({squared.sum()}, {x_in})[0];
        norm = squared.detach().sqrt();
        ++cost.network_backprops;
      }
      at::NoGradGuard no_grad;
      // DDPM posterior q(x_next | x_t, x0) between the two grid times, variance beta_tilde.
      const double beta = 1 - ab / ab_next;
      const double mean_x0 = std::sqrt(ab_next) * beta / (1 - ab);
      const double mean_xt = std::sqrt(1 - beta) * (1 - ab_next) / (1 - ab);
      const double variance = t_next < 0 ? 0.0 : beta * (1 - ab_next) / (1 - ab);
      x = mean_x0 * x0.detach() + mean_xt * x_in.detach() + std::sqrt(variance) * rng.randn(x0.sizes(), x0.scalar_type());
      x = x - (options_.zeta / norm.clamp_min(1e-12)).view({-1, 1, 1, 1}).to(x.scalar_type()) * grad;
    }
    return x.detach();
  }

 private:
  Options options_;
};

}  // namespace davi::solvers
