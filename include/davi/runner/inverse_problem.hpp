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

#include "davi/runner/data_options.hpp"
#include "davi/runner/methods.hpp"
#include "davi/runner/metric_list.hpp"
#include "davi/runner/registry.hpp"
#include "davi/runner/run_context.hpp"
#include "davi/runner/run_options.hpp"

namespace davi::runner {

struct DataOptions {
  Policy<DatasetTypes> dataset{"fashion_mnist"};
  std::int64_t validation_images = 1000;
  template <class V>
  void visit(V&& v) {
    v("dataset", dataset, kDatasetHelp);
    v("validation_images", validation_images,
      "the last N train images form the validation split; methods never train on them", at_least(0));
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

struct EvaluationOptions {
  std::string split = "test";
  int images = 100;
  int train_images = 0;
  int samples = 4;
  int batch_size = 100;
  int grid_images = 8;
  int grid_samples = 4;
  MetricList metrics;
  std::string classifier = "results/classifier/fashion_mnist/classifier.pt";
  template <class V>
  void visit(V&& v) {
    v("split", split,
      "test (the first N test images), validation (the first N validation images) or train (the first N "
      "training images, which trained methods have seen: the train-test gap)",
      one_of({"test", "validation", "train"}));
    v("images", images, "measurements evaluated (at most the split's size)", at_least(2));
    v("train_images", train_images,
      "then also the first N training images, which trained methods have seen, with the same samples and "
      "metrics (metrics.json's train_split: the train-test gap of one trained method); 0: not",
      at_least(0));
    v("samples", samples, "samples per measurement (diversity needs 2 or more)", in_range(1, 1024));
    v("batch_size", batch_size, "measurements per solve call", in_range(1, 65536));
    v("grid_images", grid_images, "measurements shown in samples.png (at most images)", at_least(1));
    v("grid_samples", grid_samples, "samples per measurement shown in samples.png (at most samples)", at_least(1));
    v("metrics", metrics, "the metrics to compute, each once: names or {name, options...}");
    v("classifier", classifier, "feature classifier for the classifier_* metrics (train_classifier writes it)");
  }
};

struct InverseProblem {
  static constexpr std::string_view name = "inverse_problem";
  static constexpr bool kRunFolders = true;  // <output>/<run_id>
  static constexpr bool kDataParallel = true;

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

  /// What a method sees of the experiment; `dataset` is the one built from e.data.dataset (built once: an
  /// image folder lists its files and reads their headers).
  static MethodEnv method_env(const Config& e, const c10::Device& device, DatasetVariant dataset,
                              std::shared_ptr<distributed::Group> group = distributed::solo()) {
    return {e.prior,  operators::GaussianNoise(e.task.noise), e.data.validation_images,
            static_cast<std::uint64_t>(e.run.seed), device, std::move(dataset),
            uses_classifier(e.evaluation) ? e.evaluation.classifier : std::string(), std::move(group)};
  }

  static void validate(const Config& e);
  /// Prepares (trains) the method, solves every measurement, writes samples.png and metrics.json.
  static void run(const Config& e, const RunContext& ctx);

  /// The per-method halves of validate and run, compiled once per method family (one translation unit each,
  /// experiments/runner/methods_*.cpp, which instantiate them with DAVI_RUNNER_METHODS).
  template <class M>
  static void validate_method(const Config& e, const typename M::Options& options, const DatasetVariant& dataset);
  template <class M>
  static void run_method(const Config& e, const typename M::Options& options, const RunContext& ctx,
                         const RunPlace& place);

  /// Whether a metric of the evaluation needs the feature classifier.
  static bool uses_classifier(const EvaluationOptions& ev) {
    bool needed = false;
    for_each_type<MetricTypes>([&]<class M>() {
      needed = needed || (M::needs_classifier && ev.metrics.contains(M::name));
    });
    return needed;
  }
};

}  // namespace davi::runner
