#pragma once
// x k super-resolution by k x k block averaging (the official code's "sr_averagepooling").
// The generator's input is y upsampled bilinearly (what the official code does), not A^T y or A^+ y.
#include <ATen/ATen.h>

#include <string_view>

#include "davi/core/options.hpp"
#include "davi/operators/group_mean.hpp"

namespace davi::operators {

class SuperResolution : public GroupMeanOperator<SuperResolution> {
 public:
  static constexpr std::string_view name = "super_resolution";
  struct Options {
    int factor = 4;
    template <class V>
    void visit(V&& v) {
      v("factor", factor, "downsampling factor k (k x k block average); must divide the image size", at_least(1));
    }
  };

  SuperResolution(const Options& o, const Shape& image_shape)
      : GroupMeanOperator(name, image_shape, static_cast<std::int64_t>(o.factor) * o.factor), options_(o) {
    check_options(o, name);
    DAVI_CHECK_OPTION(height() % o.factor == 0 && width() % o.factor == 0, "factor", o.factor,
                      " does not divide the image size ", height(), " x ", width());
  }

  Shape measurement_shape(const Shape& image_shape) const {
    check_same_image_shape(image_shape);
    return {channels(), height() / options_.factor, width() / options_.factor};
  }
  Shape measurement_batch_shape(std::int64_t n) const {
    return {n, channels(), height() / options_.factor, width() / options_.factor};
  }
  /// Bilinear upsampling to the image size (half-pixel centres, no corner alignment).
  at::Tensor lift(const at::Tensor& y) const {
    check_measurement(y, measurement_shape(image_shape()), "lift");
    return at::upsample_bilinear2d(y, {height(), width()}, /*align_corners=*/false);
  }

  /// N x C x H x W -> N x (C H/k W/k) x (k k), groups ordered like the measurement's pixels.
  at::Tensor to_groups(const at::Tensor& x) const {
    const auto k = options_.factor;
    return x.reshape({x.size(0), channels(), height() / k, k, width() / k, k})
        .permute({0, 1, 2, 4, 3, 5})
        .reshape({x.size(0), -1, k * k});
  }
  at::Tensor from_groups(const at::Tensor& g) const {
    const auto k = options_.factor;
    return g.reshape({g.size(0), channels(), height() / k, width() / k, k, k})
        .permute({0, 1, 2, 4, 3, 5})
        .reshape({g.size(0), channels(), height(), width()});
  }

  const Options& options() const { return options_; }

 private:
  Options options_;
};

}  // namespace davi::operators
