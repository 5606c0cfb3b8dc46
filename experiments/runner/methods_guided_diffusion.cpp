// The inverse_problem kind with the diffusion solvers guided by gradients through the network or the
// operator: PiGDM, DPS and RED-diff.
#include "inverse_problem_method.hpp"

DAVI_RUNNER_METHOD(davi::runner::SolverMethod<davi::solvers::Pigdm>)
DAVI_RUNNER_METHOD(davi::runner::SolverMethod<davi::solvers::Dps>)
DAVI_RUNNER_METHOD(davi::runner::SolverMethod<davi::solvers::Reddiff>)
