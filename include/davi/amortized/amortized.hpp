#pragma once
#include "davi/amortized/davi.hpp"
#include "davi/amortized/ema.hpp"
#include "davi/amortized/recipes.hpp"
