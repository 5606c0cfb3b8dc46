// The inverse_problem kind with the solvers that use no prior: lift, pinv, tikhonov.
#include "inverse_problem_method.hpp"

DAVI_RUNNER_METHOD(davi::runner::SolverMethod<davi::solvers::Lift>)
DAVI_RUNNER_METHOD(davi::runner::SolverMethod<davi::solvers::Pinv>)
DAVI_RUNNER_METHOD(davi::runner::SolverMethod<davi::solvers::Tikhonov>)
