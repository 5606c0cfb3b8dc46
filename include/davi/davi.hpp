#pragma once
// Umbrella header: everything in davi.
#include "davi/concepts.hpp"
#include "davi/core/core.hpp"
#include "davi/core/options.hpp"
#include "davi/core/progress.hpp"
#include "davi/data/data.hpp"
#include "davi/networks/unet.hpp"
#include "davi/operators/operators.hpp"
#include "davi/prior/prior.hpp"
#include "davi/schedules/schedules.hpp"
