#pragma once
// The Gaussian toy problem of the exact tests: x0 ~ N(mu, Sigma) on 1 x 2 x 2 images, so the prior's
// epsilon is known in closed form at every t, and for a linear operator with Gaussian noise the
// posterior p(x0 | y) is Gaussian with known mean and covariance.
#include <ATen/ATen.h>

#include "davi/core/rng.hpp"
#include "davi/prior/gaussian_prior.hpp"
#include "davi/schedules/sqrt_linear.hpp"

namespace davi::testing {

struct GaussianToy {
  at::Tensor mean = at::tensor({0.3, -0.2, 0.1, 0.0}, at::kDouble).reshape({1, 2, 2});
  at::Tensor covariance;

  GaussianToy() {
    const auto a = at::tensor({0.5, 0.1, 0.0, 0.2, 0.0, 0.3, 0.1, 0.0, 0.1, 0.0, 0.2, 0.1, 0.0, 0.1, 0.0, 0.4},
                              at::kDouble).reshape({4, 4});
    covariance = a.matmul(a.t()) + 0.01 * at::eye(4, at::kDouble);
  }

  prior::GaussianPrior prior() const { return prior::GaussianPrior(mean, covariance, schedules::SqrtLinear()); }

  /// n draws from the prior, float64, n x 1 x 2 x 2.
  at::Tensor draw(std::int64_t n, Rng& rng) const {
    const auto l = at::linalg_cholesky(covariance);
    return (rng.randn({n, 4}, at::kDouble).matmul(l.t()) + mean.reshape({1, 4})).reshape({n, 1, 2, 2});
  }

  /// Posterior of x0 given y = M x0 + sigma_y eps for a diagonal 0/1 mask M (flattened, length 4):
  /// Sigma_post = (Sigma^-1 + M / sigma_y^2)^-1, mu_post = Sigma_post (Sigma^-1 mu + M y / sigma_y^2).
  struct Posterior {
    at::Tensor mean;        // n x 4
    at::Tensor covariance;  // 4 x 4
  };
  Posterior posterior(const at::Tensor& y, const at::Tensor& mask, double sigma_y) const {
    const auto precision = at::linalg_inv(covariance) + at::diag(mask.to(at::kDouble)) / (sigma_y * sigma_y);
    const auto cov = at::linalg_inv(precision);
    const auto rhs = at::linalg_solve(covariance, mean.reshape({4, 1})).reshape({1, 4}) +
                     y.reshape({y.size(0), 4}).to(at::kDouble) * mask.to(at::kDouble).reshape({1, 4}) /
                         (sigma_y * sigma_y);
    return {rhs.matmul(cov), cov};  // cov is symmetric
  }
};

}  // namespace davi::testing
