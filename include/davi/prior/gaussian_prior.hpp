#pragma once
// A prior whose diffused densities are known exactly: x0 ~ N(mu, Sigma) on flattened C*H*W images.
// Then x_t ~ N(alpha mu, alpha^2 Sigma + sigma^2 I) and eps(x_t, t) = sigma Sigma_t^{-1} (x_t - alpha mu)
// in closed form, which gives exact references for every method that uses a prior.
#include <ATen/ATen.h>

#include <vector>

#include "davi/core/check.hpp"
#include "davi/schedules/discrete.hpp"

namespace davi::prior {

class GaussianPrior {
 public:
  /// mean: C x H x W; covariance: D x D with D = C*H*W, symmetric positive semi-definite.
  GaussianPrior(at::Tensor mean, at::Tensor covariance, schedules::DiscreteSchedule schedule)
      : mean_(mean.to(at::kDouble)), covariance_(covariance.to(at::kDouble)), schedule_(std::move(schedule)) {
    const auto d = mean_.numel();
    DAVI_CHECK(mean_.dim() == 3, "gaussian_prior: mean must be C x H x W, got ", shape_string(mean_.sizes()));
    DAVI_CHECK(covariance_.dim() == 2 && covariance_.size(0) == d && covariance_.size(1) == d,
               "gaussian_prior: covariance must be ", d, " x ", d, ", got ", shape_string(covariance_.sizes()));
    auto [eigenvalues, eigenvectors] = at::linalg_eigh(0.5 * (covariance_ + covariance_.t()));
    DAVI_CHECK(eigenvalues.min().item<double>() > -1e-10, "gaussian_prior: covariance is not positive semi-definite");
    eigenvalues_ = eigenvalues.clamp_min(0);
    eigenvectors_ = eigenvectors;
  }

  /// eps(x_t, t) = sigma_t Q diag(1 / (alpha_t^2 lambda + sigma_t^2)) Q^T (x_t - alpha_t mu).
  at::Tensor eps(const at::Tensor& x_t, const at::Tensor& t) const {
    const auto n = x_t.size(0);
    // float64 table lookups: this prior is the exact reference of the tests.
    const auto alpha_bar = schedule_.alpha_bars().index_select(0, t.cpu().to(at::kLong).reshape({-1})).view({n, 1});
    const auto alpha = alpha_bar.sqrt(), sigma = (1.0 - alpha_bar).sqrt();
    const auto q = eigenvectors_.to(x_t.device());
    const auto centred = x_t.to(at::kDouble).reshape({n, -1}) - alpha.to(x_t.device()) * mean_flat().to(x_t.device());
    const auto inv_var = 1.0 / (alpha_bar * eigenvalues_.view({1, -1}) + (1.0 - alpha_bar));  // n x D
    const auto coefficients = centred.matmul(q) * inv_var.to(x_t.device()) * sigma.to(x_t.device());
    return coefficients.matmul(q.t()).reshape(x_t.sizes()).to(x_t.scalar_type());
  }

  const schedules::DiscreteSchedule& schedule() const { return schedule_; }
  const at::Tensor& mean() const { return mean_; }
  const at::Tensor& covariance() const { return covariance_; }
  at::Tensor mean_flat() const { return mean_.reshape({1, -1}); }

 private:
  at::Tensor mean_, covariance_;
  at::Tensor eigenvalues_, eigenvectors_;
  schedules::DiscreteSchedule schedule_;
};

}  // namespace davi::prior
