#pragma once
#include "davi/solvers/lift.hpp"
