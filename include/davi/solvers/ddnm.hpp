#pragma once
// DDNM+ (Wang et al. 2023) for noisy measurements, without time travel, in the operator's spectral
// coordinates. Each DDIM step (eta, `steps` evaluations) replaces Tweedie's x0 by its range-null-space
// correction x0 + V diag(lambda / s) (U^T y - s V^T x0), with per-coordinate
//   lambda = min(1, sigma s / (a sigma_y))   (1 when sigma_y = 0),
// and gives the step's fresh noise only what the measurement noise did not already bring:
//   gamma = sigma^2 - (a lambda sigma_y / s)^2   (sigma^2 where s = 0),
// where a = sqrt(ab_next) multiplies x0 in the step and sigma is its DDIM noise level. One network
// evaluation per step, no backprops. sigma_y is the noise model's, in [-1, 1] units.
#include <ATen/ATen.h>

#include <cmath>
#include <string_view>

#include "davi/concepts.hpp"
#include "davi/core/check.hpp"
#include "davi/solvers/diffusion_steps.hpp"

namespace davi::solvers {

class Ddnm {
 public:
  static constexpr std::string_view name = "ddnm";
  static constexpr std::string_view required_tier = "svd";
  struct Options {
    int steps = 100;
    double eta = 0.85;
    template <class V>
    void visit(V&& v) {
      v("steps", steps, "network evaluations (official: 100)");
      v("eta", eta, "DDIM eta of the steps (official: 0.85)");
    }
  };
  Ddnm() : Ddnm(Options{}) {}
  explicit Ddnm(const Options& o) : options_(o) {
    DAVI_CHECK(o.eta >= 0 && o.eta <= 1, "method.eta: expected a value in [0, 1], got ", o.eta);
  }

  template <SvdOperator Op, EpsilonModel Prior>
  at::Tensor solve(const at::Tensor& y, const Op& op, const operators::GaussianNoise& noise_model, Prior& prior,
                   Rng& rng, Cost& cost) const {
    at::NoGradGuard no_grad;
    const auto& schedule = prior.schedule();
    const auto times = descending_times(schedule.num_steps(), options_.steps, "ddnm");
    const double sigma_y = noise_model.sigma_y();
    const auto uty = op.Ut(y);
    const auto s = singular_values_like(op, uty);
    const auto observed = s > 0;
    const auto s_safe = at::where(observed, s, at::ones_like(s));
    at::Tensor x = rng.randn(op.adjoint(y).sizes(), y.scalar_type());
    for (std::size_t k = 0; k < times.size(); ++k) {
      const int t = times[k], t_next = k + 1 < times.size() ? times[k + 1] : -1;
      const double ab = schedule.alpha_bar_at(t), ab_next = alpha_bar_or_one(schedule, t_next);
      const auto eps = eps_at(prior, x, t, cost);
      const auto x0 = x0_from_eps(x, eps, ab);
      const double sigma = options_.eta * std::sqrt((1 - ab_next) / (1 - ab)) * std::sqrt(1 - ab / ab_next);
      const double a = std::sqrt(ab_next), c = std::sqrt(std::max(0.0, 1 - ab_next - sigma * sigma));
      const auto lambda = sigma_y > 0 ? at::where(observed, (sigma * s / (a * sigma_y)).clamp_max(1), at::zeros_like(s))
                                      : observed.to(s.scalar_type());
      const auto corrected = x0 + op.V(lambda * (uty - s * op.Vt(x0)) / s_safe);
      const auto gamma = at::where(observed, (sigma * sigma - (a * lambda * sigma_y / s_safe).square()).clamp_min(0),
                                   at::full_like(s, sigma * sigma));
      x = a * corrected + c * eps + op.V(gamma.sqrt() * rng.randn(s.sizes(), s.scalar_type()));
    }
    return x;
  }

 private:
  Options options_;
};

}  // namespace davi::solvers
