#pragma once
// Random-pixel inpainting: exactly round(missing_fraction * H * W) pixel positions (all channels) are
// removed, chosen once from `seed`; the same mask for every image.
#include <cmath>
#include <string_view>

#include "davi/core/options.hpp"
#include "davi/core/rng.hpp"
#include "davi/operators/masked.hpp"

namespace davi::operators {

class RandomInpainting : public MaskedOperator {
 public:
  static constexpr std::string_view name = "random_inpainting";
  struct Options {
    double missing_fraction = 0.5;
    std::int64_t seed = 0;
    template <class V>
    void visit(V&& v) {
      v("missing_fraction", missing_fraction, "fraction of pixel positions removed", in_range(0, 1));
      v("seed", seed, "seed of the mask");
    }
  };

  RandomInpainting(const Options& o, const Shape& image_shape) : MaskedOperator(name, image_shape), options_(o) {
    DAVI_CHECK(o.missing_fraction >= 0 && o.missing_fraction <= 1,
               "random_inpainting.missing_fraction: expected a value in [0, 1], got ", o.missing_fraction);
    Rng rng(static_cast<std::uint64_t>(o.seed));
    const auto pixels = height() * width();
    const auto missing = static_cast<std::int64_t>(std::llround(o.missing_fraction * pixels));
    auto mask = at::ones({pixels}, at::kDouble);
    mask.index_fill_(0, rng.randperm(pixels).narrow(0, 0, missing), 0.0);
    set_mask(mask.reshape({1, 1, height(), width()}));
  }

  const Options& options() const { return options_; }

 private:
  Options options_;
};

}  // namespace davi::operators
