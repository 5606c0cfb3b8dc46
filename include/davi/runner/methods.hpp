#pragma once
// The methods the inverse_problem kind can run, by JSON name. Adding one = its file + one entry here.
#include <tuple>

#include "davi/runner/davi_method.hpp"
#include "davi/runner/method.hpp"
#include "davi/solvers/solvers.hpp"

namespace davi::runner {

using MethodTypes = std::tuple<DaviMethod, SolverMethod<solvers::Lift>>;

}  // namespace davi::runner
