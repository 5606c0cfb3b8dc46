#pragma once
// Operators that average disjoint groups of g pixels (block-average super-resolution: g = k*k pixels;
// colorization: g = 3 channels). Their SVD is exact and cheap: each group is one row (1/g) 1^T with
// singular value 1/sqrt(g); the other g - 1 directions of a group are in the null space. The basis of
// a group's space is a fixed g x g orthogonal matrix H whose first row is 1/sqrt(g) 1.
//
// CRTP: Derived provides to_groups(x) -> N x m x g, from_groups(N x m x g) -> image, and
// measurement_batch_shape(N).
#include <Eigen/Dense>

#include <cmath>

#include "davi/core/tensor_cache.hpp"
#include "davi/operators/operator_base.hpp"

namespace davi::operators {

template <class Derived>
class GroupMeanOperator : public ImageShapeChecks {
 public:
  GroupMeanOperator(std::string_view name, const Shape& image_shape, std::int64_t group_size)
      : ImageShapeChecks(name, image_shape), group_size_(group_size), basis_(group_basis(group_size)) {}

  at::Tensor forward(const at::Tensor& x) const {
    check_image(x, "forward");
    return self().to_groups(x).mean(-1).reshape(self().measurement_batch_shape(x.size(0)));
  }
  /// A^T y: every pixel of a group receives y / g.
  at::Tensor adjoint(const at::Tensor& y) const { return replicate(y, "adjoint") / static_cast<double>(group_size_); }
  /// A^+ y: every pixel of a group receives y (nearest-neighbour replication for super-resolution).
  at::Tensor pinv(const at::Tensor& y) const { return replicate(y, "pinv"); }

  /// N x n: the first m coefficients are the group means times sqrt(g), the rest span the null space.
  at::Tensor Vt(const at::Tensor& x) const {
    check_image(x, "Vt");
    const auto coefficients = at::matmul(self().to_groups(x), basis_.like(x).t());  // N x m x g
    return at::cat({coefficients.select(2, 0), coefficients.narrow(2, 1, group_size_ - 1).reshape({x.size(0), -1})}, 1);
  }
  at::Tensor V(const at::Tensor& c) const {
    const auto n = c.size(0), m = measurement_dim();
    const auto groups = at::cat({c.narrow(1, 0, m).unsqueeze(2), c.narrow(1, m, c.size(1) - m).reshape({n, m, -1})}, 2);
    return self().from_groups(at::matmul(groups, basis_.like(c)));
  }
  at::Tensor Ut(const at::Tensor& y) const {
    check_measurement(y, self().measurement_shape(image_shape()), "Ut");
    return at::constant_pad_nd(y.reshape({y.size(0), -1}), {0, image_dim() - measurement_dim()});
  }
  at::Tensor U(const at::Tensor& c) const {
    return c.narrow(1, 0, measurement_dim()).reshape(self().measurement_batch_shape(c.size(0)));
  }
  at::Tensor singular_values() const {
    auto s = at::zeros({image_dim()}, at::kDouble);
    s.narrow(0, 0, measurement_dim()).fill_(1.0 / std::sqrt(static_cast<double>(group_size_)));
    return s;
  }

  std::int64_t group_size() const { return group_size_; }
  std::int64_t measurement_dim() const { return image_dim() / group_size_; }

 protected:
  /// Spreads each measurement entry over its group.
  at::Tensor replicate(const at::Tensor& y, const char* where) const {
    check_measurement(y, self().measurement_shape(image_shape()), where);
    return self().from_groups(y.reshape({y.size(0), -1, 1}).expand({y.size(0), measurement_dim(), group_size_}));
  }

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }

  /// g x g orthogonal matrix whose first row is 1/sqrt(g) (Householder QR of a matrix led by ones).
  static TensorCache group_basis(std::int64_t g) {
    Eigen::MatrixXd seed = Eigen::MatrixXd::Identity(g, g);
    seed.col(0).setOnes();
    Eigen::MatrixXd q = Eigen::HouseholderQR<Eigen::MatrixXd>(seed).householderQ();
    if (q(0, 0) < 0) q = -q;
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rows = q.transpose();
    return TensorCache(at::from_blob(const_cast<double*>(rows.data()), {g, g}, at::kDouble).clone());
  }

  std::int64_t group_size_;
  TensorCache basis_;
};

}  // namespace davi::operators
