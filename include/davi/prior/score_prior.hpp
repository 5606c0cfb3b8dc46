#pragma once
// ScorePrior: an epsilon-prediction network together with the schedule it was trained with.
// Predictions are offered in the three usual forms: epsilon, x0 (Tweedie) and the score.
#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "davi/core/atomic_file.hpp"
#include "davi/networks/unet.hpp"
#include "davi/schedules/discrete.hpp"

namespace davi::prior {

/// x0 = (x_t - sigma_t eps) / alpha_t; shared by every epsilon-predicting model.
inline torch::Tensor x0_from_eps(const schedules::DiscreteSchedule& s, const torch::Tensor& x_t,
                                 const torch::Tensor& t, const torch::Tensor& eps) {
  const auto shape = std::vector<int64_t>{-1, 1, 1, 1};
  return (x_t - s.sigma(t).view(shape) * eps) / s.alpha(t).view(shape);
}

using schedules::diffuse;  // x_t = alpha_t x0 + sigma_t eps (schedules/discrete.hpp)

class ScorePrior {
 public:
  ScorePrior(networks::UNet net, schedules::DiscreteSchedule schedule, nlohmann::json config = {})
      : net_(std::move(net)), schedule_(std::move(schedule)), config_(std::move(config)) {}

  torch::Tensor eps(const torch::Tensor& x_t, const torch::Tensor& t) { return net_->forward(x_t, t); }
  torch::Tensor x0(const torch::Tensor& x_t, const torch::Tensor& t) { return x0_from_eps(schedule_, x_t, t, eps(x_t, t)); }
  /// grad log p_t(x_t) = -eps / sigma_t.
  torch::Tensor score(const torch::Tensor& x_t, const torch::Tensor& t) {
    return -eps(x_t, t) / schedule_.sigma(t).view({-1, 1, 1, 1});
  }

  const schedules::DiscreteSchedule& schedule() const { return schedule_; }
  networks::UNet& net() { return net_; }
  /// The network and schedule description this prior was built from (stored in its checkpoint).
  const nlohmann::json& config() const { return config_; }

 private:
  networks::UNet net_;
  schedules::DiscreteSchedule schedule_;
  nlohmann::json config_;
};

}  // namespace davi::prior
