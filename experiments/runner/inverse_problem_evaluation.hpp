#pragma once
// The method-independent half of the inverse_problem kind, as the per-method half
// (inverse_problem_method.hpp) calls it; defined in inverse_problem.cpp. This header must not define the
// per-method templates: inverse_problem.cpp would then instantiate every method again.
#include <ATen/ATen.h>

#include <functional>

#include "davi/runner/inverse_problem.hpp"

namespace davi::runner {

/// The operator as the evaluation uses it, whatever its type: forward for the consistency metric, lift for
/// the sample grid.
struct MeasurementModel {
  std::function<at::Tensor(const at::Tensor&)> forward;
  std::function<at::Tensor(const at::Tensor&)> lift;
};

/// Images and their measurements (on the CPU).
struct EvaluationSet {
  at::Tensor x0, y;
};

/// The evaluation of the train split (`evaluation.train_images`) draws its noise, samples and bootstrap
/// resamples from streams of its own: those of the seed plus this.
inline constexpr std::uint64_t kTrainSplitStreams = 10000;

/// The evaluation images of the config's split (on the CPU).
at::Tensor evaluation_images(const InverseProblem::Config& e, const DatasetVariant& data);
/// The first `evaluation.train_images` training images (on the CPU); undefined when that is 0.
at::Tensor train_evaluation_images(const InverseProblem::Config& e, const DatasetVariant& data);

/// Everything after the method is made: prepare (train) it, solve every measurement of `evaluated`, then of
/// `train` (when it holds images), write samples.png and metrics.json, print the report.
void evaluate_method(const InverseProblem::Config& e, const RunContext& ctx, const RunPlace& place, Method& method,
                     const MeasurementModel& model, const EvaluationSet& evaluated, const EvaluationSet& train,
                     const DatasetVariant& data);

}  // namespace davi::runner
