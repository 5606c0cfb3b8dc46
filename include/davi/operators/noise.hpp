#pragma once
// Additive Gaussian measurement noise. sigma_y is in the units of images scaled to [-1, 1]
// (sigma_y = 0.05 is 2.5% of the range, 0.025 in [0, 1] units; DDRM-style code quotes [0, 1] units).
#include <ATen/ATen.h>

#include <string_view>

#include "davi/core/options.hpp"
#include "davi/core/check.hpp"
#include "davi/core/rng.hpp"

namespace davi::operators {

class GaussianNoise {
 public:
  static constexpr std::string_view name = "gaussian";
  static constexpr std::string_view units = "[-1, 1] image units";
  struct Options {
    double sigma_y = 0.05;
    template <class V>
    void visit(V&& v) {
      v("sigma_y", sigma_y, "noise standard deviation in [-1, 1] image units (0.05 = 2.5% of the range)", in_range(0, 10));
    }
  };

  GaussianNoise() : GaussianNoise(Options{}) {}
  explicit GaussianNoise(const Options& o) : options_(o) {
    check_options(o, name);
  }

  double sigma_y() const { return options_.sigma_y; }
  const Options& options() const { return options_; }

  /// y + sigma_y * eps with eps drawn from `rng`.
  at::Tensor apply(const at::Tensor& y, Rng& rng) const {
    if (options_.sigma_y == 0) return y;
    return y + options_.sigma_y * rng.randn(y.sizes(), y.scalar_type());
  }

 private:
  Options options_;
};

}  // namespace davi::operators
