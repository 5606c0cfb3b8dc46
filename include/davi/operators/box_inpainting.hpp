#pragma once
// Box inpainting: a square hole of side box_size. Placement "center" (the official code's default: the
// same centred box for every image) or "random": one box per image at a seeded position, drawn by
// resample(batch, rng) and readable through positions() so a run can store them.
#include <string>
#include <string_view>

#include "davi/core/options.hpp"
#include "davi/core/rng.hpp"
#include "davi/operators/masked.hpp"

namespace davi::operators {

class BoxInpainting : public MaskedOperator {
 public:
  static constexpr std::string_view name = "box_inpainting";
  struct Options {
    int box_size = 14;
    std::string placement = "center";
    template <class V>
    void visit(V&& v) {
      v("box_size", box_size, "side of the square hole in pixels (official: half the image side)", at_least(1));
      v("placement", placement, "center (same box for all images) or random (seeded, one box per image)", one_of({"center", "random"}));
    }
  };

  BoxInpainting(const Options& o, const Shape& image_shape) : MaskedOperator(name, image_shape), options_(o) {
    check_options(o, name);
    DAVI_CHECK_OPTION(o.box_size <= height() && o.box_size <= width(), "box_size", o.box_size,
                      " does not fit in images of ", height(), " x ", width());
    const auto top = (height() - o.box_size) / 2, left = (width() - o.box_size) / 2;
    set_positions(at::tensor({top, left}, at::kLong).reshape({1, 2}));
  }

  bool random_placement() const { return options_.placement == "random"; }

  /// Random placement: draws one box position per image of the next batch of `batch` images.
  void resample(std::int64_t batch, Rng& rng) {
    DAVI_CHECK(random_placement(), "box_inpainting.resample: placement is \"center\"; the box never moves");
    const auto top = rng.randint(0, height() - options_.box_size + 1, {batch}).cpu();
    const auto left = rng.randint(0, width() - options_.box_size + 1, {batch}).cpu();
    set_positions(at::stack({top, left}, 1));
  }

  /// (top, left) of each box: 1 x 2 (shared) or N x 2.
  const at::Tensor& positions() const { return positions_; }
  void set_positions(const at::Tensor& positions) {
    DAVI_CHECK(positions.dim() == 2 && positions.size(1) == 2, "box_inpainting: positions must be N x 2, got ",
               shape_string(positions.sizes()));
    positions_ = positions.to(at::kLong).contiguous();
    auto mask = at::ones({positions_.size(0), 1, height(), width()}, at::kDouble);
    const auto* p = positions_.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < positions_.size(0); ++i) {
      DAVI_CHECK(p[2 * i] >= 0 && p[2 * i] + options_.box_size <= height() && p[2 * i + 1] >= 0 &&
                     p[2 * i + 1] + options_.box_size <= width(),
                 "box_inpainting: box at (", p[2 * i], ", ", p[2 * i + 1], ") leaves the image");
      mask[i].narrow(1, p[2 * i], options_.box_size).narrow(2, p[2 * i + 1], options_.box_size).zero_();
    }
    set_mask(mask);
  }

  const Options& options() const { return options_; }

 private:
  Options options_;
  at::Tensor positions_;
};

}  // namespace davi::operators
