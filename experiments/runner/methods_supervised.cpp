// The inverse_problem kind with the method "supervised" (the regression baseline), for every operator.
#include "inverse_problem_method.hpp"

DAVI_RUNNER_METHOD(davi::runner::SupervisedMethod)
