#pragma once
// PiGDM (Song et al. 2023), the noisy form. Its likelihood score
//   g = (d x0 / d x_t)^T A^T (r_t^2 A A^T + sigma_y^2 I)^-1 (y - A x0),   r_t^2 = 1 - ab_t,
// (the inverse through the SVD, A^T (r^2 A A^T + sigma_y^2)^-1 = V diag(s / (r^2 s^2 + sigma_y^2)) U^T,
// the Jacobian product by one backprop through the network) is added to the prior's score in each DDIM
// step (eta, `steps` evaluations): eps' = eps - sqrt(1 - ab) w g and x0' = x0 + (1 - ab) / sqrt(ab) w g, then
//   x_next = sqrt(ab_next) x0' + c eps' + sigma z,  w = `guidance` (1: the posterior score of the paper).
// One network evaluation and one backprop per step. sigma_y is the noise model's, in [-1, 1] units.
#include <torch/torch.h>

#include <cmath>
#include <string_view>

#include "davi/concepts.hpp"
#include "davi/core/check.hpp"
#include "davi/solvers/diffusion_steps.hpp"

namespace davi::solvers {

class Pigdm {
 public:
  static constexpr std::string_view name = "pigdm";
  static constexpr std::string_view required_tier = "svd";
  struct Options {
    int steps = 100;
    double eta = 0.2;
    double guidance = 1.0;
    template <class V>
    void visit(V&& v) {
      v("steps", steps, "network evaluations, each with one backprop (InverseBench: 100)");
      v("eta", eta, "DDIM eta of the steps (InverseBench: 0.2; the paper: 1.0)");
      v("guidance", guidance, "multiplier of the guidance term (1 = the paper's)");
    }
  };
  Pigdm() : Pigdm(Options{}) {}
  explicit Pigdm(const Options& o) : options_(o) {
    DAVI_CHECK(o.eta >= 0 && o.eta <= 1, "method.eta: expected a value in [0, 1], got ", o.eta);
    DAVI_CHECK(o.guidance >= 0, "method.guidance: expected a value >= 0, got ", o.guidance);
  }

  template <SvdOperator Op, EpsilonModel Prior>
  at::Tensor solve(const at::Tensor& y, const Op& op, const operators::GaussianNoise& noise_model, Prior& prior,
                   Rng& rng, Cost& cost) const {
    const auto& schedule = prior.schedule();
    const auto times = descending_times(schedule.num_steps(), options_.steps, "pigdm");
    const double sigma_y2 = noise_model.sigma_y() * noise_model.sigma_y();
    const auto uty = op.Ut(y).detach();
    const auto s = singular_values_like(op, uty);
    at::Tensor x = rng.randn(op.adjoint(y).sizes(), y.scalar_type());
    for (std::size_t k = 0; k < times.size(); ++k) {
      const int t = times[k], t_next = k + 1 < times.size() ? times[k + 1] : -1;
      const double ab = schedule.alpha_bar_at(t), ab_next = alpha_bar_or_one(schedule, t_next);
      const auto x_in = x.detach().requires_grad_(true);
      at::Tensor eps, x0, g;
      {
        torch::AutoGradMode grad(true);
        eps = eps_at(prior, x_in, t, cost);
        x0 = x0_from_eps(x_in, eps, ab);
        const double r2 = 1 - ab;
        at::Tensor v;
        {
          at::NoGradGuard no_grad;
          v = op.V(s * (uty - s * op.Vt(x0)) / (r2 * s * s + sigma_y2));
        }
        g = torch::autograd::grad({x0}, {x_in}, {v})[0];
        ++cost.network_backprops;
      }
      at::NoGradGuard no_grad;
      const double sigma = options_.eta * std::sqrt((1 - ab_next) / (1 - ab)) * std::sqrt(1 - ab / ab_next);
      const double c = std::sqrt(std::max(0.0, 1 - ab_next - sigma * sigma));
      const double w = options_.guidance;
      const auto x0_guided = x0.detach() + (1 - ab) / std::sqrt(ab) * w * g;
      const auto eps_guided = eps.detach() - std::sqrt(1 - ab) * w * g;
      x = std::sqrt(ab_next) * x0_guided + c * eps_guided + sigma * rng.randn(x0.sizes(), x0.scalar_type());
    }
    return x.detach();
  }

 private:
  Options options_;
};

}  // namespace davi::solvers
