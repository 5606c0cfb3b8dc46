#pragma once
// SSIM (Wang et al. 2004) with its reference settings: an 11 x 11 Gaussian window of sigma 1.5,
// K1 = 0.01, K2 = 0.03, images mapped from [-1, 1] to [0, 1] (data range 1), local statistics with the
// window's weights (no sample-covariance correction), "valid" windows only (no padding), averaged
// over channels and positions: one value per image.
#include <ATen/ATen.h>

#include <array>

#include <vector>

#include "davi/core/check.hpp"
#include "davi/core/options.hpp"
#include "davi/metrics/psnr.hpp"
#include "davi/metrics/metric_batch.hpp"

namespace davi::metrics {

struct SsimOptions {
  int window = 11;
  double sigma = 1.5;
  double k1 = 0.01;
  double k2 = 0.03;
  template <class V>
  void visit(V&& v) {
    v("window", window, "side of the Gaussian window in pixels", at_least(1));
    v("sigma", sigma, "standard deviation of the window in pixels", greater_than(0));
    v("k1", k1, "stabiliser of the luminance term (C1 = k1^2)", greater_than(0));
    v("k2", k2, "stabiliser of the contrast term (C2 = k2^2)", greater_than(0));
  }
};

/// Per-image SSIM (N values) of `estimate` against `truth`, both N x C x H x W in [-1, 1].
inline at::Tensor ssim(const at::Tensor& estimate, const at::Tensor& truth, const SsimOptions& o = {}) {
  DAVI_CHECK(estimate.sizes() == truth.sizes() && estimate.dim() == 4, "ssim: expected two N x C x H x W tensors of ",
             "one shape, got estimate ", shape_string(estimate.sizes()), ", truth ", shape_string(truth.sizes()));
  DAVI_CHECK(estimate.size(2) >= o.window && estimate.size(3) >= o.window, "ssim: images ",
             shape_string(estimate.sizes()), " are smaller than the ", o.window, " x ", o.window, " window");
  const auto x = to_unit_interval(estimate), y = to_unit_interval(truth);
  const auto channels = x.size(1);
  const auto opts = x.options();
  const auto offsets = at::arange(o.window, opts) - (o.window - 1) / 2.0;
  auto g = at::exp(-offsets.square() / (2 * o.sigma * o.sigma));
  g = g / g.sum();
  const auto window = at::outer(g, g).expand({channels, 1, o.window, o.window}).contiguous();
  const std::vector<std::int64_t> one = {1, 1}, none = {0, 0};
  const auto local_mean = [&](const at::Tensor& z) { return at::conv2d(z, window, {}, one, none, one, channels); };
  const at::Tensor mx = local_mean(x);
  const at::Tensor my = local_mean(y);
  const at::Tensor vx = local_mean(x * x) - mx * mx;
  const at::Tensor vy = local_mean(y * y) - my * my;
  const at::Tensor cxy = local_mean(x * y) - mx * my;
  const double c1 = o.k1 * o.k1, c2 = o.k2 * o.k2;
  const auto map = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
  return map.reshape({x.size(0), -1}).mean(1);
}

/// The metric "ssim": per measurement, averaged over the samples.
struct Ssim {
  static constexpr std::string_view name = "ssim";
  static constexpr std::array<std::string_view, 1> reports = {name};
  static constexpr bool needs_classifier = false;
  static constexpr int min_samples = 1;
  using Options = SsimOptions;
  explicit Ssim(const Options& o = {}) : options_(o) { check_options(o, "ssim"); }
  NamedValues values(const MetricBatch& b) const {
    return {{"ssim", mean_over_samples(b, [&](const at::Tensor& s) { return ssim(s, b.truth, options_); })}};
  }

 private:
  Options options_;
};

}  // namespace davi::metrics
