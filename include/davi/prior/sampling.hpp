#pragma once
// Unconditional samplers for any epsilon model (a trained ScorePrior or the closed-form GaussianPrior).
#include <ATen/ATen.h>

#include <vector>

#include "davi/concepts.hpp"
#include "davi/core/rng.hpp"
#include "davi/prior/score_prior.hpp"

namespace davi::prior {

struct SamplingOptions {
  int steps = 100;           // DDIM: number of network evaluations; DDPM always uses every step
  double eta = 0.0;          // DDIM: 0 deterministic, 1 DDPM-like variance
  bool clip_x0 = true;       // clip the x0 prediction to [-1, 1] at every step
};

namespace detail {
inline at::Tensor time_column(std::int64_t t, std::int64_t n, const at::Device& device) {
  return at::full({n}, t, at::TensorOptions().dtype(at::kLong).device(device));
}
}  // namespace detail

/// DDIM (Song et al. 2021) over `steps` evenly spaced times from T-1 down to 0.
template <EpsilonModel Model>
at::Tensor ddim_sample(Model& model, at::IntArrayRef shape, Rng& rng, const SamplingOptions& o = {}) {
  at::NoGradGuard no_grad;
  const auto& s = model.schedule();
  const int T = s.num_steps();
  DAVI_CHECK(o.steps >= 1 && o.steps <= T, "ddim: steps must be in [1, ", T, "], got ", o.steps);
  const auto times = at::linspace(0, T - 1, o.steps, at::kDouble).round().to(at::kLong);
  at::Tensor x = rng.randn(shape);
  const auto n = shape[0];
  for (int i = o.steps - 1; i >= 0; --i) {
    const auto t = times[i].item<std::int64_t>();
    const double ab = s.alpha_bar_at(static_cast<int>(t));
    const double ab_prev = i > 0 ? s.alpha_bar_at(static_cast<int>(times[i - 1].item<std::int64_t>())) : 1.0;
    const auto eps = model.eps(x, detail::time_column(t, n, x.device()));
    auto x0 = (x - std::sqrt(1 - ab) * eps) / std::sqrt(ab);
    if (o.clip_x0) x0 = x0.clamp(-1, 1);
    if (i == 0) return x0;
    const double sigma = o.eta * std::sqrt((1 - ab_prev) / (1 - ab)) * std::sqrt(1 - ab / ab_prev);
    x = std::sqrt(ab_prev) * x0 + std::sqrt(std::max(0.0, 1 - ab_prev - sigma * sigma)) * eps;
    if (sigma > 0) x = x + sigma * rng.randn(shape);
  }
  return x;
}

/// Ancestral DDPM sampling (Ho et al. 2020) through all T steps, posterior variance beta_tilde.
template <EpsilonModel Model>
at::Tensor ddpm_sample(Model& model, at::IntArrayRef shape, Rng& rng, const SamplingOptions& o = {}) {
  at::NoGradGuard no_grad;
  const auto& s = model.schedule();
  at::Tensor x = rng.randn(shape);
  const auto n = shape[0];
  for (int t = s.num_steps() - 1; t >= 0; --t) {
    const double ab = s.alpha_bar_at(t), ab_prev = t > 0 ? s.alpha_bar_at(t - 1) : 1.0;
    const double beta = 1 - ab / ab_prev;
    const auto times = detail::time_column(t, n, x.device());
    auto x0 = x0_from_eps(s, x, times, model.eps(x, times));
    if (o.clip_x0) x0 = x0.clamp(-1, 1);
    const double c0 = std::sqrt(ab_prev) * beta / (1 - ab), ct = std::sqrt(1 - beta) * (1 - ab_prev) / (1 - ab);
    x = c0 * x0 + ct * x;
    if (t > 0) x = x + std::sqrt(beta * (1 - ab_prev) / (1 - ab)) * rng.randn(shape);
  }
  return x;
}

}  // namespace davi::prior
