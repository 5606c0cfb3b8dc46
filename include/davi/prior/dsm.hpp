#pragma once
// Denoising score matching and the training loop of a ScorePrior, with an EMA of the weights and
// atomic, resumable checkpoints.
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "davi/core/atomic_file.hpp"
#include "davi/core/rng.hpp"
#include "davi/prior/score_prior.hpp"

namespace davi::prior {

/// E_{t ~ U{t_min..t_max-1}, eps} || eps - eps_hat(alpha_t x0 + sigma_t eps, t) ||^2, mean over pixels.
template <class EpsFn>
torch::Tensor dsm_loss(EpsFn&& eps_hat, const schedules::DiscreteSchedule& s, const torch::Tensor& x0, Rng& rng,
                       int t_max = 0, int t_min = 0) {
  if (t_max <= 0) t_max = s.num_steps();
  const auto t = rng.randint(t_min, t_max, {x0.size(0)});
  const auto eps = rng.randn(x0.sizes());
  return torch::mse_loss(eps_hat(diffuse(s, x0, t, eps), t), eps);
}

/// dst <- src, parameter by parameter (and buffers).
inline void copy_weights(torch::nn::Module& dst, torch::nn::Module& src) {
  torch::NoGradGuard no_grad;
  auto d = dst.parameters(), s = src.parameters();
  DAVI_CHECK(d.size() == s.size(), "copy_weights: modules differ in parameter count");
  for (std::size_t i = 0; i < d.size(); ++i) d[i].copy_(s[i]);
  auto db = dst.buffers(), sb = src.buffers();
  for (std::size_t i = 0; i < db.size() && i < sb.size(); ++i) db[i].copy_(sb[i]);
}

/// ema <- decay * ema + (1 - decay) * online, as two multi-tensor (foreach) kernels over all parameters
/// instead of one small kernel per parameter (on a GPU, the per-parameter loop is launch-bound).
inline void ema_update(torch::nn::Module& ema, torch::nn::Module& online, double decay) {
  torch::NoGradGuard no_grad;
  auto e = ema.parameters(), o = online.parameters();
  DAVI_CHECK(e.size() == o.size(), "ema_update: modules differ in parameter count");
  at::_foreach_mul_(e, decay);
  at::_foreach_add_(e, o, 1.0 - decay);
}

/// Writes a module's parameters and buffers to `path` atomically.
inline void save_module(torch::nn::Module& module, const std::filesystem::path& path) {
  write_atomically(path, [&](const std::filesystem::path& tmp) {
    torch::serialize::OutputArchive archive;
    module.save(archive);
    archive.save_to(tmp.string());
  });
}

}  // namespace davi::prior
