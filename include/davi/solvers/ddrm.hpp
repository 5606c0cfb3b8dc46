#pragma once
// DDRM (Kawar et al. 2022), as its official efficient_generalized_steps computes it, in the operator's
// spectral coordinates (x_spec = V^T x, y_bar = U^T y / s). With sigma the VE noise level
// sqrt(1 - ab) / sqrt(ab) of the next time and x0 Tweedie's estimate at this one, each coordinate is:
//   unobserved (s = 0):         V^T x0 + sqrt(1 - eta^2) sigma V^T eps + eta sigma z
//   less noisy than y (s sigma < sigma_y):
//                               V^T x0 + sqrt(1 - eta^2) sigma (U^T y - s V^T x0) / sigma_y + eta sigma z
//   noisier than y (s sigma > sigma_y):
//                               eta_b y_bar + (1 - eta_b) V^T x0 + sqrt(sigma^2 - eta_b^2 sigma_y^2 / s^2) z
// and x_next = sqrt(ab_next) V x_spec. sigma_y is the noise model's, in [-1, 1] units (the official code
// takes [0, 1] units and doubles them). One network evaluation per step, no backprops.
#include <ATen/ATen.h>

#include <cmath>
#include <string_view>

#include "davi/core/options.hpp"
#include "davi/concepts.hpp"
#include "davi/operators/noise.hpp"
#include "davi/core/check.hpp"
#include "davi/solvers/diffusion_steps.hpp"

namespace davi::solvers {

/// A measurement in the operator's spectral coordinates (each N x n): U^T y, the singular values s, and
/// y_bar = U^T y / s with its noise level sigma_y / s where s > 0.
struct SpectralMeasurement {
  at::Tensor uty, s, observed, y_bar, noise_of_y;
  double sigma_y;
};

template <SvdOperator Op>
SpectralMeasurement spectral_measurement(const Op& op, const at::Tensor& y, double sigma_y) {
  SpectralMeasurement m;
  m.uty = op.Ut(y);
  m.sigma_y = sigma_y;
  m.s = singular_values_like(op, m.uty);
  m.observed = m.s > 0;
  const auto s_safe = at::where(m.observed, m.s, at::ones_like(m.s));
  m.y_bar = at::where(m.observed, m.uty / s_safe, at::zeros_like(m.s));
  m.noise_of_y = sigma_y / s_safe;
  return m;
}

/// One DDRM step from time t to t_next (-1: the clean end), as the comment above writes it. One network
/// evaluation.
template <SvdOperator Op, EpsilonModel Prior>
at::Tensor ddrm_step(const Op& op, Prior& prior, const at::Tensor& x, int t, int t_next, const SpectralMeasurement& m,
                     double eta, double eta_b, Rng& rng, Cost& cost) {
  const auto& schedule = prior.schedule();
  const double ab = schedule.alpha_bar_at(t), ab_next = alpha_bar_or_one(schedule, t_next);
  const auto eps = eps_at(prior, x, t, cost);
  const auto x0 = x0_from_eps(x, eps, ab);
  const double sigma_next = std::sqrt((1 - ab_next) / ab_next);
  const double fresh = sigma_next * eta, kept = sigma_next * std::sqrt(1 - eta * eta);
  const auto v_x0 = op.Vt(x0);
  const auto noise = rng.randn(v_x0.sizes(), v_x0.scalar_type());
  const auto unobserved = v_x0 + kept * op.Vt(eps) + fresh * noise;
  const auto less_noisy = m.sigma_y > 0 ? v_x0 + kept * (m.uty - m.s * v_x0) / m.sigma_y + fresh * noise : v_x0;
  const auto noisier = eta_b * m.y_bar + (1 - eta_b) * v_x0 +
                       (sigma_next * sigma_next - eta_b * eta_b * m.noise_of_y.square()).clamp_min(0).sqrt() * noise;
  const auto spec = at::where(m.observed & (m.s * sigma_next > m.sigma_y), noisier,
                              at::where(m.observed & (m.s * sigma_next < m.sigma_y), less_noisy, unobserved));
  return std::sqrt(ab_next) * op.V(spec);
}

class Ddrm {
 public:
  static constexpr std::string_view name = "ddrm";
  static constexpr std::string_view required_tier = "svd";
  struct Options {
    int steps = 20;
    double eta = 1.0;
    double eta_b = 1.0;
    template <class V>
    void visit(V&& v) {
      v("steps", steps, "network evaluations (official: 20; at most the prior's T)", at_least(1));
      v("eta", eta, "eta = eta_A = eta_C: the fresh-noise share of each step (official: 0.85; tuned here: 1.0)", in_range(0, 1));
      v("eta_b", eta_b, "weight of the measurement where it is noisier than the step (official: 1.0)", in_range(0, 1));
    }
  };
  Ddrm() : Ddrm(Options{}) {}
  explicit Ddrm(const Options& o) : options_(o) {
    check_options(o, name);
  }
  const Options& options() const { return options_; }

  template <SvdOperator Op, EpsilonModel Prior>
  at::Tensor solve(const at::Tensor& y, const Op& op, const operators::GaussianNoise& noise_model, Prior& prior,
                   Rng& rng, Cost& cost) const {
    at::NoGradGuard no_grad;
    const auto& schedule = prior.schedule();
    const auto times = descending_times(schedule.num_steps(), options_.steps, "ddrm");
    const auto m = spectral_measurement(op, y, noise_model.sigma_y());

    // x_T from q(x_T | y): the measurement where it is less noisy than sigma_T, noise elsewhere.
    const double ab_T = schedule.alpha_bar_at(times.front());
    const double sigma_T = std::sqrt((1 - ab_T) / ab_T);
    const auto informative = m.observed & (m.s * sigma_T > m.sigma_y);
    const auto z = rng.randn(m.uty.sizes(), m.uty.scalar_type());
    const auto spec_T =
        at::where(informative, m.y_bar + (sigma_T * sigma_T - m.noise_of_y.square()).clamp_min(0).sqrt() * z, sigma_T * z);
    at::Tensor x = std::sqrt(ab_T) * op.V(spec_T);

    for (std::size_t k = 0; k < times.size(); ++k) {
      const int t = times[k], t_next = k + 1 < times.size() ? times[k + 1] : -1;
      x = ddrm_step(op, prior, x, t, t_next, m, options_.eta, options_.eta_b, rng, cost);
    }
    return x;
  }

 private:
  Options options_;
};

}  // namespace davi::solvers
