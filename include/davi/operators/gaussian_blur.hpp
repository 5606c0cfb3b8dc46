#pragma once
// Separable Gaussian blur with zero boundary, as DDRM's SVD blur (the official DAVI operator): per
// channel A(X) = K_h X K_w^T with K the banded Toeplitz matrix of the normalised 1-D kernel.
// K is replaced by its truncated SVD (1-D singular values below sv_threshold set to 0, as the official
// code does with 0.03); the truncated matrix *is* the operator, so forward, adjoint, pinv and SVD agree.
// (The official code also drops the kernel's last tap; davi keeps the symmetric kernel.)
#include <Eigen/Dense>

#include <cmath>
#include <string_view>

#include "davi/core/options.hpp"
#include "davi/core/tensor_cache.hpp"
#include "davi/operators/operator_base.hpp"

namespace davi::operators {

class GaussianBlur : public ImageShapeChecks {
 public:
  static constexpr std::string_view name = "gaussian_blur";
  struct Options {
    int kernel_size = 61;
    double sigma = 3.0;
    double sv_threshold = 0.03;
    template <class V>
    void visit(V&& v) {
      v("kernel_size", kernel_size, "taps of the 1-D kernel (odd)", in_range(1, 8191));
      v("sigma", sigma, "standard deviation of the kernel in pixels", greater_than(0));
      v("sv_threshold", sv_threshold, "1-D singular values below this are set to 0 (official code: 0.03)", at_least(0));
    }
  };

  GaussianBlur(const Options& o, const Shape& image_shape) : ImageShapeChecks(name, image_shape), options_(o) {
    check_options(o, name);
    DAVI_CHECK_OPTION(o.kernel_size % 2 == 1, "kernel_size", "expected an odd positive integer, got ", o.kernel_size);
    rows_ = Factor(toeplitz(height()), o.sv_threshold);
    cols_ = Factor(toeplitz(width()), o.sv_threshold);
    build_singular_grids();
  }

  Shape measurement_shape(const Shape& image_shape) const {
    check_same_image_shape(image_shape);
    return image_shape;
  }
  at::Tensor forward(const at::Tensor& x) const {
    check_image(x, "forward");
    return apply(rows_.matrix, x, cols_.matrix_t);
  }
  at::Tensor adjoint(const at::Tensor& y) const {
    check_image(y, "adjoint");
    return apply(rows_.matrix_t, y, cols_.matrix);
  }
  /// The operator leaves y in image space, and the official code feeds it to the generator as is.
  at::Tensor lift(const at::Tensor& y) const {
    check_image(y, "lift");
    return y;
  }
  at::Tensor pinv(const at::Tensor& y) const {
    check_image(y, "pinv");
    const auto c = apply(rows_.ut, y, cols_.u) * inverse_singular_grid_.like(y);
    return apply(rows_.v, c, cols_.vt);
  }

  at::Tensor Vt(const at::Tensor& x) const {
    check_image(x, "Vt");
    return apply(rows_.vt, x, cols_.v).reshape({x.size(0), -1});
  }
  at::Tensor V(const at::Tensor& c) const { return apply(rows_.v, as_image(c), cols_.vt); }
  at::Tensor Ut(const at::Tensor& y) const {
    check_image(y, "Ut");
    return apply(rows_.ut, y, cols_.u).reshape({y.size(0), -1});
  }
  at::Tensor U(const at::Tensor& c) const { return apply(rows_.u, as_image(c), cols_.ut); }
  at::Tensor singular_values() const { return singular_grid_.source().reshape({-1}); }

  const Options& options() const { return options_; }
  /// The 1-D matrices actually applied along rows and columns (after truncation).
  const at::Tensor& row_matrix() const { return rows_.matrix.source(); }

 private:
  /// SVD of one 1-D blur matrix, K = U diag(s) V^T, with s truncated.
  struct Factor {
    TensorCache matrix, matrix_t, u, ut, v, vt;
    at::Tensor s;
    Factor() = default;
    Factor(const Eigen::MatrixXd& k, double threshold) {
      Eigen::JacobiSVD<Eigen::MatrixXd> svd(k, Eigen::ComputeFullU | Eigen::ComputeFullV);
      Eigen::VectorXd sv = svd.singularValues();
      for (auto& value : sv) value = value < threshold ? 0.0 : value;
      const Eigen::MatrixXd truncated = svd.matrixU() * sv.asDiagonal() * svd.matrixV().transpose();
      matrix = TensorCache(to_tensor(truncated));
      matrix_t = TensorCache(to_tensor(truncated.transpose()));
      u = TensorCache(to_tensor(svd.matrixU()));
      ut = TensorCache(to_tensor(svd.matrixU().transpose()));
      v = TensorCache(to_tensor(svd.matrixV()));
      vt = TensorCache(to_tensor(svd.matrixV().transpose()));
      s = at::from_blob(sv.data(), {sv.size()}, at::kDouble).clone();
    }
  };

  static at::Tensor to_tensor(const Eigen::MatrixXd& m) {
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> row_major = m;
    return at::from_blob(const_cast<double*>(row_major.data()), {m.rows(), m.cols()}, at::kDouble).clone();
  }

  /// The n x n zero-boundary Toeplitz matrix of the normalised kernel: K[r][c] = k[c - r + half].
  Eigen::MatrixXd toeplitz(std::int64_t n) const {
    const int half = options_.kernel_size / 2;
    Eigen::VectorXd taps(options_.kernel_size);
    for (int i = 0; i < options_.kernel_size; ++i)
      taps[i] = std::exp(-0.5 * std::pow((i - half) / options_.sigma, 2));
    taps /= taps.sum();
    Eigen::MatrixXd k = Eigen::MatrixXd::Zero(n, n);
    for (std::int64_t r = 0; r < n; ++r)
      for (std::int64_t c = std::max<std::int64_t>(0, r - half); c <= std::min(n - 1, r + half); ++c)
        k(r, c) = taps[c - r + half];
    return k;
  }

  /// left X right, for X of shape N x C x H x W (matmul broadcasts over N and C).
  static at::Tensor apply(const TensorCache& left, const at::Tensor& x, const TensorCache& right) {
    return at::matmul(at::matmul(left.like(x), x), right.like(x));
  }

  at::Tensor as_image(const at::Tensor& c) const { return c.reshape({c.size(0), channels(), height(), width()}); }

  void build_singular_grids() {
    const auto grid = at::outer(rows_.s, cols_.s).expand({channels(), height(), width()}).contiguous();
    singular_grid_ = TensorCache(grid);
    inverse_singular_grid_ = TensorCache(at::where(grid > 0, 1.0 / grid, at::zeros_like(grid)));
  }

  Options options_;
  Factor rows_, cols_;
  TensorCache singular_grid_, inverse_singular_grid_;
};

}  // namespace davi::operators
