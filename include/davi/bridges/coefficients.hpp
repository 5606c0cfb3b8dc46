#pragma once
// I2SB-style bridge coefficients as the official DAVI code builds them from the diffusion schedule:
// symmetric betas b = (beta_0..beta_{T/2-1}, beta_{T/2-1}..beta_0), sigma_f(t)^2 = sum_{s<=t} b_s,
// sigma_b(t)^2 = sum_{s>=t} b_s, mu0 = sigma_b^2 / (sigma_f^2 + sigma_b^2), mu1 = 1 - mu0.
// t = 0 is the clean end, t = T-1 the measurement end. With sqrt_linear, sigma_f(999) = 1.4813.
#include <ATen/ATen.h>

#include "davi/concepts.hpp"
#include "davi/core/time_table.hpp"
#include "davi/schedules/discrete.hpp"

namespace davi::bridges {

class BridgeCoefficients {
 public:
  explicit BridgeCoefficients(const schedules::DiscreteSchedule& schedule) : num_steps_(schedule.num_steps()) {
    const auto& betas = schedule.betas();
    const auto half = num_steps_ / 2;
    const auto b = at::cat({betas.narrow(0, 0, num_steps_ - half), betas.narrow(0, 0, half).flip(0)});
    const auto forward = at::cumsum(b, 0);
    const auto backward = at::cumsum(b.flip(0), 0).flip(0);
    sigma_f_ = TimeTable(forward.sqrt());
    sigma_b_ = TimeTable(backward.sqrt());
    mu0_ = TimeTable(backward / (forward + backward));
    mu1_ = TimeTable(forward / (forward + backward));
    perturbation_ = TimeTable(1.0 - schedule.alpha_bars());
  }

  int num_steps() const { return num_steps_; }
  at::Tensor sigma_f(const at::Tensor& t) const { return sigma_f_(t); }
  at::Tensor sigma_b(const at::Tensor& t) const { return sigma_b_(t); }
  /// Weight of the clean image x0 at bridge time t.
  at::Tensor mu0(const at::Tensor& t) const { return mu0_(t); }
  /// Weight of the lifted measurement at bridge time t.
  at::Tensor mu1(const at::Tensor& t) const { return mu1_(t); }
  /// 1 - alpha_bar(t) of the diffusion schedule: the official perturbation is h times this (not its sqrt).
  at::Tensor one_minus_alpha_bar(const at::Tensor& t) const { return perturbation_(t); }

  /// Inference input: t' = T-1 and both bridge ends at y_lift, x_in = y_lift + h (1 - alpha_bar(T-1)) z.
  BridgeInput measurement_end(const at::Tensor& y_lift, double h, Rng& rng) const {
    const auto t = last_times(y_lift.size(0), y_lift.device());
    return {y_lift + h * perturbation_.at_step(num_steps_ - 1) * rng.randn(y_lift.sizes(), y_lift.scalar_type()), t};
  }

  at::Tensor last_times(std::int64_t n, const c10::Device& device) const {
    return at::full({n}, num_steps_ - 1, at::TensorOptions().dtype(at::kLong).device(device));
  }

 private:
  int num_steps_;
  TimeTable sigma_f_, sigma_b_, mu0_, mu1_, perturbation_;
};

/// Reshapes a per-sample vector to broadcast over N x C x H x W.
inline at::Tensor per_sample(const at::Tensor& v) { return v.reshape({-1, 1, 1, 1}); }

}  // namespace davi::bridges
