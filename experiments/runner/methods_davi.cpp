// The inverse_problem kind with the method "davi": its Davi<Op, Divergence, Bridge> for every operator,
// divergence and bridge of the registry (the heaviest instantiation of the runner, alone in this unit).
#include "inverse_problem_method.hpp"

DAVI_RUNNER_METHOD(davi::runner::DaviMethod)
