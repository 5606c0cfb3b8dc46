#pragma once
// Learning curves of the trained methods (davi, supervised): every `every` training steps the model solves
// a fixed set of measurements of the first validation images (drawn once, with their own noise stream) and
// the PSNR and, when the evaluation has a feature classifier, the classifier Frechet distance of its
// estimates are written to curve.csv (core/training_loop.hpp keeps that file with the checkpoints). The
// measuring draws from its own streams only, so a run trains the same with and without a curve.
#include <ATen/ATen.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "davi/core/options.hpp"
#include "davi/core/precision.hpp"
#include "davi/core/rng.hpp"
#include "davi/core/training_loop.hpp"
#include "davi/metrics/classifier_frechet_distance.hpp"
#include "davi/metrics/psnr.hpp"
#include "davi/networks/feature_classifier.hpp"
#include "davi/runner/method.hpp"

namespace davi::runner {

struct CurveOptions {
  int every = 0;
  int images = 200;
  template <class V>
  void visit(V&& v) {
    v("every", every, "training steps between evaluations on validation images (0 = no learning curve)",
      at_least(0));
    v("images", images, "first validation images evaluated, the same measurements each time (at most "
      "data.validation_images)", in_range(2, 100000));
  }
};

/// Refuses a curve the experiment cannot feed, before any work.
inline void check_curve(const CurveOptions& o, const MethodEnv& env) {
  if (o.every == 0) return;
  DAVI_CHECK(o.images <= env.validation_images, "method.curve.images: expected a value in [2, ",
             env.validation_images, "] (data.validation_images), got ", o.images);
}

/// The fixed measurements of a curve and what is measured on them.
class LearningCurve {
 public:
  /// One estimate per measurement: N x C x H x W from N measurements, drawing from `rng`.
  using Solve = std::function<at::Tensor(const at::Tensor& y, Rng& rng)>;
  using Values = std::vector<std::pair<std::string, double>>;

  template <class Op>
  LearningCurve(const CurveOptions& o, const Op& op, const MethodEnv& env)
      : options_(o), seed_(env.seed + 3001), device_(env.device) {
    if (o.every == 0) return;
    const auto x0 = validation_split(env.dataset, env.validation_images, o.images);
    Rng noise(env.seed + 3000, c10::kCPU);
    y_ = env.noise.apply(op.forward(x0), noise).to(device_);
    x0_ = x0.to(device_);
    if (!env.classifier.empty()) classifier_ = networks::load_feature_classifier(env.classifier, device_);
  }

  /// PSNR (mean over the images) and, with a classifier, the classifier Frechet distance of `solve`'s
  /// estimates, named `prefix` + the metric. The same draws every time it is called.
  Values measure(const std::string& prefix, const Solve& solve) const {
    Rng rng(seed_, device_);
    metrics::ClassifierFrechetDistance frechet;
    double psnr_sum = 0;
    const std::int64_t n = x0_.size(0);
    for (std::int64_t i = 0; i < n; i += kBatch) {
      const auto x0 = x0_.slice(0, i, std::min(n, i + kBatch));
      const auto y = y_.slice(0, i, std::min(n, i + kBatch));
      const auto x_hat = solve(y, rng).to(at::kFloat);  // in the training's precision
      const ComputeScope metrics_in_fp32(Compute{});     // as the final evaluation measures
      psnr_sum += metrics::psnr(x_hat, x0).sum().item<double>();
      if (classifier_) frechet.add({x_hat.unsqueeze(1), x0, y, nullptr, classifier_});
    }
    Values values = {{prefix + "psnr", psnr_sum / static_cast<double>(n)}};
    if (classifier_) values.emplace_back(prefix + "classifier_frechet_distance", frechet.value());
    return values;
  }

  /// The loop's hook measuring `values` every options.every steps (none when every is 0).
  CurveHook hook(std::function<Values()> values) const { return {options_.every, std::move(values)}; }

 private:
  static constexpr std::int64_t kBatch = 100;
  CurveOptions options_;
  std::uint64_t seed_;
  c10::Device device_;
  at::Tensor x0_, y_;
  networks::FeatureClassifier classifier_{nullptr};
};

}  // namespace davi::runner
