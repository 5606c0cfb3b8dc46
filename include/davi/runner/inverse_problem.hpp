#pragma once
// Kind "inverse_problem" (the default): one method on one task. The method is prepared (trained, for
// DAVI), then solves the measurements of the evaluation images; every method of an experiment sees the
// same measurements (same images, same noise: drawn once from the seed on the CPU, whatever the batch
// size or device). Writes config.json, train_log.csv (methods that train), samples.png and metrics.json.
// The run is compiled into davi_runner (experiments/runner/inverse_problem.cpp and methods_*.cpp).
#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "davi/runner/methods.hpp"
#include "davi/runner/registry.hpp"
#include "davi/runner/run_context.hpp"
#include "davi/runner/run_options.hpp"

namespace davi::runner {

struct DataOptions {
  std::string dataset = "fashion_mnist";
  std::int64_t validation_images = 1000;
  template <class V>
  void visit(V&& v) {
    v("dataset", dataset, "data set: fashion_mnist (Debian's dataset-fashion-mnist)");
    v("validation_images", validation_images,
      "the last N train images form the validation split; methods never train on them");
  }
};

struct TaskOptions {
  Policy<OperatorTypes> operator_spec{"gaussian_blur"};
  operators::GaussianNoise::Options noise;
  template <class V>
  void visit(V&& v) {
    v("operator", operator_spec, "forward operator: a name or {name, options...}");
    v("noise", noise, "measurement noise y = A x0 + sigma_y eps");
  }
};

/// The metrics the runner can compute, in the order they are reported.
inline const std::vector<std::string> kMetricNames = {"psnr", "ssim", "classifier_feature_distance",
                                                      "classifier_frechet_distance", "diversity", "consistency"};

struct EvaluationOptions {
  std::string split = "test";
  int images = 100;
  int samples = 4;
  int batch_size = 100;
  int grid_images = 8;
  int grid_samples = 4;
  std::vector<std::string> metrics = kMetricNames;
  std::string classifier = "results/classifier/fashion_mnist/classifier.pt";
  template <class V>
  void visit(V&& v) {
    v("split", split, "test (the first N test images) or validation (the first N validation images)");
    v("images", images, "measurements evaluated");
    v("samples", samples, "samples per measurement (diversity needs 2 or more)");
    v("batch_size", batch_size, "measurements per solve call");
    v("grid_images", grid_images, "measurements shown in samples.png");
    v("grid_samples", grid_samples, "samples per measurement shown in samples.png");
    v("metrics", metrics,
      "any of: psnr, ssim, classifier_feature_distance, classifier_frechet_distance, diversity, consistency");
    v("classifier", classifier, "feature classifier for the classifier_* metrics (train_classifier writes it)");
  }
};

/// Fashion-MNIST images: 1 x 28 x 28.
inline const Shape kFashionMnistShape = {1, 28, 28};

using OperatorVariant = PolicyVariant<OperatorTypes>;

/// Constructs the chosen operator for `image_shape`; its errors are reported under `operator`.
inline OperatorVariant make_operator(const Policy<OperatorTypes>& policy, const Shape& image_shape) {
  try {
    return construct(policy, image_shape);
  } catch (const Error& e) {
    detail::fail("task.operator: ", e.what());
  }
}

struct InverseProblem {
  static constexpr std::string_view name = "inverse_problem";
  static constexpr bool kRunFolders = true;  // <output>/<run_id>

  struct Config {
    RunOptions run = run_options_of("inverse_problem");
    DataOptions data;
    std::string prior = "results/priors/fashion_mnist/prior.pt";
    TaskOptions task;
    Policy<MethodTypes> method{"davi"};
    EvaluationOptions evaluation;
    template <class V>
    void visit(V&& v) {
      run.visit(v);
      v("data", data, "data set and validation split");
      v("prior", prior, "prior checkpoint (written by a train_prior run)");
      v("task", task, "the inverse problem: operator and noise");
      v("method", method, "the method: a name or {name, options...}; a list runs each on the same measurements");
      v("evaluation", evaluation, "evaluation images, samples and metrics");
    }
  };

  static MethodEnv method_env(const Config& e, const c10::Device& device) {
    return {e.prior, operators::GaussianNoise(e.task.noise), e.data.validation_images,
            static_cast<std::uint64_t>(e.run.seed), device};
  }

  static void validate(const Config& e);
  /// Prepares (trains) the method, solves every measurement, writes samples.png and metrics.json.
  static void run(const Config& e, const RunContext& ctx);

  /// The per-method halves of validate and run, compiled once per method family (one translation unit each,
  /// experiments/runner/methods_*.cpp, which instantiate them with DAVI_RUNNER_METHODS).
  template <class M>
  static void validate_method(const Config& e, const typename M::Options& options);
  template <class M>
  static void run_method(const Config& e, const typename M::Options& options, const RunContext& ctx,
                         const RunPlace& place);

  static bool uses_classifier(const EvaluationOptions& ev) {
    return std::any_of(ev.metrics.begin(), ev.metrics.end(),
                       [](const std::string& m) { return m.rfind("classifier_", 0) == 0; });
  }
};

}  // namespace davi::runner
