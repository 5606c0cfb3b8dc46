#pragma once
#include "davi/schedules/cosine.hpp"
#include "davi/schedules/linear.hpp"
#include "davi/schedules/sqrt_linear.hpp"
