#pragma once
// PiGDM (Song et al. 2023), the noisy form. With x0 Tweedie's estimate at x_t and r_t^2 = 1 - ab_t, its
// likelihood score is
//   g = (d x0 / d x_t)^T A^T (r_t^2 A A^T + sigma_y^2 I)^-1 (y - A x0),
// the inverse through the SVD (A^T (r^2 A A^T + sigma_y^2)^-1 = V diag(s / (r^2 s^2 + sigma_y^2)) U^T), the
// Jacobian product by one backprop through the network. The step, with eta the fresh-noise share as in
// InverseBench (sigma = eta sqrt(1 - ab_next), c = sqrt(1 - eta^2) sqrt(1 - ab_next)) and w = `guidance`:
//   "inversebench": x_next = sqrt(ab_next) x0 + c eps + sigma z + w sqrt(ab_next ab) r_t^2 g
//       InverseBench's noisy PiGDM (its VE-coordinate update written in VP coordinates): the guidance is
//       damped by ab at high noise, where d x0 / d x_t carries 1 / sqrt(ab) and a learned network's
//       Jacobian errors would otherwise be amplified without bound.
//   "score": g is added to the prior's score, eps' = eps - sqrt(1 - ab) w g, x0' = x0 + r_t^2 / sqrt(ab) w g,
//       x_next = sqrt(ab_next) x0' + c eps' + sigma z: the sampler PiGDM's approximation defines, exact on a
//       Gaussian prior with identity covariance, but it diverges with the Fashion-MNIST prior (NaN on
//       deblurring at w = 1; see docs/baselines.md).
// One network evaluation and one backprop per step. sigma_y is the noise model's, in [-1, 1] units.
#include <torch/torch.h>

#include <cmath>
#include <string>
#include <string_view>

#include "davi/core/options.hpp"
#include "davi/concepts.hpp"
#include "davi/operators/noise.hpp"
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
    double guidance = 0.5;
    std::string form = "inversebench";
    template <class V>
    void visit(V&& v) {
      v("steps", steps, "network evaluations, each with one backprop (InverseBench: 100)", at_least(1));
      v("eta", eta, "fresh-noise share of each step (InverseBench: 0.2)", in_range(0, 1));
      v("guidance", guidance, "multiplier w of the guidance term (1 = InverseBench's, or the exact score's; tuned here: 0.5)", at_least(0));
      v("form", form, "how the guidance enters the step: inversebench (damped by alpha_bar) or score (exact score)", one_of({"inversebench", "score"}));
    }
  };
  Pigdm() : Pigdm(Options{}) {}
  explicit Pigdm(const Options& o) : options_(o) {
    check_options(o, name);
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
      const double sigma = options_.eta * std::sqrt(1 - ab_next);
      const double c = std::sqrt(1 - options_.eta * options_.eta) * std::sqrt(1 - ab_next);
      const double w = options_.guidance;
      const auto z = rng.randn(x0.sizes(), x0.scalar_type());
      if (options_.form == "score") {
        const auto x0_guided = x0.detach() + (1 - ab) / std::sqrt(ab) * w * g;
        const auto eps_guided = eps.detach() - std::sqrt(1 - ab) * w * g;
        x = std::sqrt(ab_next) * x0_guided + c * eps_guided + sigma * z;
      } else {
        x = std::sqrt(ab_next) * x0.detach() + c * eps.detach() + sigma * z + w * std::sqrt(ab_next * ab) * (1 - ab) * g;
      }
    }
    return x.detach();
  }

 private:
  Options options_;
};

}  // namespace davi::solvers
