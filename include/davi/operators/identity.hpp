#pragma once
// A = I: denoising. Every singular value is 1.
#include <string_view>

#include "davi/operators/operator_base.hpp"

namespace davi::operators {

class Identity : public ImageShapeChecks {
 public:
  static constexpr std::string_view name = "identity";
  struct Options {
    template <class V>
    void visit(V&&) {}
  };

  explicit Identity(const Shape& image_shape) : Identity(Options{}, image_shape) {}
  Identity(const Options& o, const Shape& image_shape) : ImageShapeChecks(name, image_shape), options_(o) {}

  Shape measurement_shape(const Shape& image_shape) const {
    check_same_image_shape(image_shape);
    return image_shape;
  }
  at::Tensor forward(const at::Tensor& x) const { return checked(x, "forward"); }
  at::Tensor adjoint(const at::Tensor& y) const { return checked(y, "adjoint"); }
  at::Tensor lift(const at::Tensor& y) const { return checked(y, "lift"); }
  at::Tensor pinv(const at::Tensor& y) const { return checked(y, "pinv"); }

  at::Tensor Vt(const at::Tensor& x) const { return checked(x, "Vt").reshape({x.size(0), -1}); }
  at::Tensor V(const at::Tensor& c) const { return c.reshape(batch_shape(c.size(0))); }
  at::Tensor Ut(const at::Tensor& y) const { return checked(y, "Ut").reshape({y.size(0), -1}); }
  at::Tensor U(const at::Tensor& c) const { return V(c); }
  at::Tensor singular_values() const { return at::ones({image_dim()}, at::kDouble); }

  const Options& options() const { return options_; }

 private:
  at::Tensor checked(const at::Tensor& t, const char* where) const {
    check_image(t, where);
    return t;
  }
  Shape batch_shape(std::int64_t n) const { return {n, channels(), height(), width()}; }
  Options options_;
};

}  // namespace davi::operators
