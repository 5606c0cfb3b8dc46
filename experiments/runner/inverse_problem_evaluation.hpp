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

/// The evaluation images of the config's split (on the CPU).
at::Tensor evaluation_images(const InverseProblem::Config& e, const DatasetVariant& data);

/// Everything after the method is made: prepare (train) it, solve every measurement, write samples.png and
/// metrics.json, print the report.
void evaluate_method(const InverseProblem::Config& e, const RunContext& ctx, const RunPlace& place, Method& method,
                     const MeasurementModel& model, const at::Tensor& x0_all, const at::Tensor& y_all,
                     const DatasetVariant& data);

}  // namespace davi::runner
