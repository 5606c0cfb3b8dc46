// The inverse_problem kind with the diffusion solvers built on the operator's SVD: DDRM and DDNM.
#include "inverse_problem_method.hpp"

DAVI_RUNNER_METHOD(davi::runner::SolverMethod<davi::solvers::Ddrm>)
DAVI_RUNNER_METHOD(davi::runner::SolverMethod<davi::solvers::Ddnm>)
