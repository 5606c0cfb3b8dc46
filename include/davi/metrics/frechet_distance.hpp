#pragma once
// The Frechet distance between two Gaussians, d^2 = |mu1 - mu2|^2 + tr(C1 + C2 - 2 (C1^1/2 C2 C1^1/2)^1/2),
// with the matrix square roots taken by symmetric eigendecomposition in double precision (Eigen), and
// the same distance between two sets of feature vectors through their means and covariances. davi
// computes it in the embedding of its own Fashion-MNIST classifier: not an FID (that is defined on an
// ImageNet Inception network), so results call it classifier_frechet_distance.
#include <ATen/ATen.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "davi/core/check.hpp"

namespace davi::metrics {

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;

/// Square root of a symmetric positive semi-definite matrix (tiny negative eigenvalues clamp to 0).
inline Matrix psd_sqrt(const Matrix& a) {
  const Eigen::SelfAdjointEigenSolver<Matrix> eig(a);
  const Vector root = eig.eigenvalues().cwiseMax(0.0).cwiseSqrt();
  return eig.eigenvectors() * root.asDiagonal() * eig.eigenvectors().transpose();
}

/// Squared Frechet (2-Wasserstein) distance between N(mu1, c1) and N(mu2, c2).
inline double frechet_distance(const Vector& mu1, const Matrix& c1, const Vector& mu2, const Matrix& c2) {
  DAVI_CHECK(mu1.size() == mu2.size() && c1.rows() == mu1.size() && c1.cols() == mu1.size() &&
                 c2.rows() == mu1.size() && c2.cols() == mu1.size(),
             "frechet_distance: dimensions differ: mu1 ", mu1.size(), ", mu2 ", mu2.size(), ", c1 ", c1.rows(), "x",
             c1.cols(), ", c2 ", c2.rows(), "x", c2.cols());
  const Matrix s1 = psd_sqrt(c1);
  const Matrix middle = s1 * c2 * s1;
  const Eigen::SelfAdjointEigenSolver<Matrix> eig(0.5 * (middle + middle.transpose()));
  const double cross = eig.eigenvalues().cwiseMax(0.0).cwiseSqrt().sum();
  return std::max(0.0, (mu1 - mu2).squaredNorm() + c1.trace() + c2.trace() - 2 * cross);
}

struct GaussianFit {
  Vector mean;
  Matrix covariance;  // unbiased (divides by N - 1)
};

/// Mean and covariance of the rows of an N x D tensor (N >= 2).
inline GaussianFit fit_gaussian(const at::Tensor& features) {
  DAVI_CHECK(features.dim() == 2 && features.size(0) >= 2, "fit_gaussian: expected N x D features with N >= 2, got ",
             shape_string(features.sizes()));
  const auto f = features.to(at::kCPU, at::kDouble).contiguous();
  const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> rows(
      f.data_ptr<double>(), f.size(0), f.size(1));
  GaussianFit fit;
  fit.mean = rows.colwise().mean().transpose();
  const Matrix centred = rows.rowwise() - fit.mean.transpose();
  fit.covariance = centred.transpose() * centred / static_cast<double>(f.size(0) - 1);
  return fit;
}

/// Squared Frechet distance between Gaussians fitted to two feature sets (N x D and M x D).
inline double frechet_distance(const at::Tensor& features_a, const at::Tensor& features_b) {
  const auto a = fit_gaussian(features_a), b = fit_gaussian(features_b);
  return frechet_distance(a.mean, a.covariance, b.mean, b.covariance);
}

}  // namespace davi::metrics
