#pragma once
// Shape bookkeeping shared by the operators: each is built for one image shape C x H x W and checks
// the batches it is given against it, naming the operator and both shapes when they disagree.
#include <ATen/ATen.h>

#include <string_view>

#include "davi/core/shape.hpp"
#include "davi/core/check.hpp"

namespace davi::operators {

class ImageShapeChecks {
 public:
  ImageShapeChecks(std::string_view name, Shape image_shape) : name_(name), image_shape_(std::move(image_shape)) {
    DAVI_CHECK(image_shape_.size() == 3 && image_shape_[0] > 0 && image_shape_[1] > 0 && image_shape_[2] > 0, name_,
               ": image shape must be C x H x W, got ", shape_string(image_shape_));
  }

  const Shape& image_shape() const { return image_shape_; }
  std::int64_t channels() const { return image_shape_[0]; }
  std::int64_t height() const { return image_shape_[1]; }
  std::int64_t width() const { return image_shape_[2]; }
  std::int64_t image_dim() const { return image_shape_[0] * image_shape_[1] * image_shape_[2]; }

 protected:
  /// Checks x is N x C x H x W for this operator's image shape.
  void check_image(const at::Tensor& x, const char* where) const { check_batch(x, image_shape_, where, "image"); }
  /// Checks y is N x (measurement shape).
  void check_measurement(const at::Tensor& y, const Shape& measurement_shape, const char* where) const {
    check_batch(y, measurement_shape, where, "measurement");
  }
  /// Checks a request for the measurement shape names the image shape this operator was built for.
  void check_same_image_shape(const Shape& image_shape) const {
    DAVI_CHECK(image_shape == image_shape_, name_, ": built for images ", shape_string(image_shape_),
               ", asked about ", shape_string(image_shape));
  }

 private:
  void check_batch(const at::Tensor& t, const Shape& per_item, const char* where, const char* what) const {
    const bool ok = t.dim() == static_cast<std::int64_t>(per_item.size()) + 1 &&
                    std::equal(per_item.begin(), per_item.end(), t.sizes().begin() + 1);
    DAVI_CHECK(ok, name_, ".", where, ": expected N x ", shape_string(per_item), " ", what, ", got ",
               shape_string(t.sizes()));
  }

  std::string_view name_;
  Shape image_shape_;
};

}  // namespace davi::operators
