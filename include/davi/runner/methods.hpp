#pragma once
// The methods the inverse_problem kind can run, by JSON name. Adding one = its file + one entry here.
#include <tuple>

#include "davi/runner/davi_method.hpp"
#include "davi/runner/method.hpp"
#include "davi/runner/supervised_method.hpp"
#include "davi/solvers/solvers.hpp"

namespace davi::runner {

using MethodTypes =
    std::tuple<DaviMethod, SupervisedMethod, SolverMethod<solvers::Lift>, SolverMethod<solvers::Pinv>, SolverMethod<solvers::Tikhonov>,
               SolverMethod<solvers::Ddrm>, SolverMethod<solvers::Ddnm>, SolverMethod<solvers::Pigdm>,
               SolverMethod<solvers::Dps>, SolverMethod<solvers::Reddiff>>;

}  // namespace davi::runner
