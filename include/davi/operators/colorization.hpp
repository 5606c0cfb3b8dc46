#pragma once
// Colorization: an RGB image to its gray level, the mean of the three channels (the official code
// uses 0.3333/0.3334/0.3333). Lift: the gray channel repeated three times, which is A^+ y.
#include <ATen/ATen.h>

#include <string_view>

#include "davi/operators/group_mean.hpp"

namespace davi::operators {

class Colorization : public GroupMeanOperator<Colorization> {
 public:
  static constexpr std::string_view name = "colorization";
  struct Options {
    template <class V>
    void visit(V&&) {}
  };

  explicit Colorization(const Shape& image_shape) : Colorization(Options{}, image_shape) {}
  Colorization(const Options& o, const Shape& image_shape)
      : GroupMeanOperator(name, image_shape, 3), options_(o) {
    DAVI_CHECK(channels() == 3, "colorization: needs 3-channel images, got image shape ", shape_string(image_shape));
  }

  Shape measurement_shape(const Shape& image_shape) const {
    check_same_image_shape(image_shape);
    return {1, height(), width()};
  }
  Shape measurement_batch_shape(std::int64_t n) const { return {n, 1, height(), width()}; }
  at::Tensor lift(const at::Tensor& y) const { return pinv(y); }

  /// N x 3 x H x W -> N x (H W) x 3.
  at::Tensor to_groups(const at::Tensor& x) const { return x.permute({0, 2, 3, 1}).reshape({x.size(0), -1, 3}); }
  at::Tensor from_groups(const at::Tensor& g) const {
    return g.reshape({g.size(0), height(), width(), 3}).permute({0, 3, 1, 2}).contiguous();
  }

  const Options& options() const { return options_; }

 private:
  Options options_;
};

}  // namespace davi::operators
