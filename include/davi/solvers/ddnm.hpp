#pragma once
// DDNM+ (Wang et al. 2023) for noisy measurements, as the official SVD-based code computes it. With a =
// sqrt(ab_next) and sigma_t = sqrt(1 - ab_next), each step replaces Tweedie's x0 by its range-null-space
// correction x0 + V diag(lambda / s) (U^T y - s V^T x0) and draws the next x as
//   a x0_hat + V (d1 * z + d2 * V^T eps),  per spectral coordinate:
//   s = 0:                     lambda irrelevant, d1 = eta sigma_t, d2 = sqrt(1 - eta^2) sigma_t
//   sigma_t < a sigma_y / s:   lambda = s sigma_t sqrt(1 - eta^2) / (a sigma_y), d1 = eta sigma_t, d2 = 0
//   otherwise:                 lambda = 1, d1 = sqrt(sigma_t^2 - (a sigma_y / s)^2), d2 = 0.
// Written out, this is DDRM's update with eta_b = 1 (in VP instead of VE coordinates), so Ddnm steps with
// ddrm_step; what differs from DDRM is the start (pure noise, not q(x_T | y)) and the official step count
// (100). Time travel is not implemented: the official default (length 1, repeat 1) does none. One network
// evaluation per step, no backprops. sigma_y is the noise model's, in [-1, 1] units (the official code
// takes [0, 1] units and doubles them).
#include <ATen/ATen.h>

#include <string_view>

#include "davi/core/options.hpp"
#include "davi/concepts.hpp"
#include "davi/operators/noise.hpp"
#include "davi/core/check.hpp"
#include "davi/solvers/ddrm.hpp"
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
      v("steps", steps, "network evaluations (official: 100; at most the prior's T)", at_least(1));
      v("eta", eta, "the fresh-noise share of each step, as DDRM's eta (official: 0.85; tuned here: 0.85)", in_range(0, 1));
    }
  };
  Ddnm() : Ddnm(Options{}) {}
  explicit Ddnm(const Options& o) : options_(o) {
    check_options(o, name);
  }

  template <SvdOperator Op, EpsilonModel Prior>
  at::Tensor solve(const at::Tensor& y, const Op& op, const operators::GaussianNoise& noise_model, Prior& prior,
                   Rng& rng, Cost& cost) const {
    at::NoGradGuard no_grad;
    const auto times = descending_times(prior.schedule().num_steps(), options_.steps, "ddnm");
    const auto m = spectral_measurement(op, y, noise_model.sigma_y());
    at::Tensor x = rng.randn(op.adjoint(y).sizes(), y.scalar_type());
    for (std::size_t k = 0; k < times.size(); ++k) {
      const int t = times[k], t_next = k + 1 < times.size() ? times[k + 1] : -1;
      x = ddrm_step(op, prior, x, t, t_next, m, options_.eta, /*eta_b=*/1.0, rng, cost);
    }
    return x;
  }

 private:
  Options options_;
};

}  // namespace davi::solvers
