#pragma once
#include "davi/amortized/davi.hpp"
#include "davi/amortized/davi_options.hpp"
#include "davi/amortized/ema.hpp"
#include "davi/amortized/generator.hpp"
#include "davi/amortized/recipes.hpp"
#include "davi/amortized/supervised.hpp"
