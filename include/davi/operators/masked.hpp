#pragma once
// Inpainting operators: A x = m * x for a 0/1 mask m, kept image-shaped as in the official code, so
// y = m * x + noise over the whole image (the hole holds pure noise) and lift(y) = y.
// A is a diagonal projection: A^T = A^+ = A, V = U = I, and the singular values are the mask itself.
// The mask is either shared (1 x 1 x H x W, broadcast over batch and channels) or one per image
// (N x 1 x H x W); then singular_values() is N x n.
#include <ATen/ATen.h>

#include "davi/core/tensor_cache.hpp"
#include "davi/operators/operator_base.hpp"

namespace davi::operators {

class MaskedOperator : public ImageShapeChecks {
 public:
  Shape measurement_shape(const Shape& image_shape) const {
    check_same_image_shape(image_shape);
    return image_shape;
  }
  at::Tensor forward(const at::Tensor& x) const { return masked(x, "forward"); }
  at::Tensor adjoint(const at::Tensor& y) const { return masked(y, "adjoint"); }
  at::Tensor pinv(const at::Tensor& y) const { return masked(y, "pinv"); }
  at::Tensor lift(const at::Tensor& y) const {
    check_image(y, "lift");
    return y;
  }

  at::Tensor Vt(const at::Tensor& x) const {
    check_image(x, "Vt");
    return x.reshape({x.size(0), -1});
  }
  at::Tensor V(const at::Tensor& c) const { return c.reshape({c.size(0), channels(), height(), width()}); }
  at::Tensor Ut(const at::Tensor& y) const { return Vt(y); }
  at::Tensor U(const at::Tensor& c) const { return V(c); }
  at::Tensor singular_values() const {
    const auto& m = mask_.source();
    const auto full = m.expand({m.size(0), channels(), height(), width()}).reshape({m.size(0), -1});
    return m.size(0) == 1 ? full.reshape({-1}) : full;
  }

  /// The current mask: 1 x 1 x H x W (shared) or N x 1 x H x W (one per image), float64, 1 = observed.
  const at::Tensor& mask() const { return mask_.source(); }
  double observed_fraction() const { return mask_.source().mean().item<double>(); }

 protected:
  MaskedOperator(std::string_view name, const Shape& image_shape) : ImageShapeChecks(name, image_shape) {}
  void set_mask(const at::Tensor& mask) { mask_ = TensorCache(mask); }

 private:
  at::Tensor masked(const at::Tensor& t, const char* where) const {
    check_image(t, where);
    const auto& m = mask_.like(t);
    DAVI_CHECK(m.size(0) == 1 || m.size(0) == t.size(0), "masked operator.", where, ": holds masks for ", m.size(0),
               " images, got a batch of ", t.size(0));
    return t * m;
  }
  TensorCache mask_;
};

}  // namespace davi::operators
