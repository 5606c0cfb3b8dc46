#pragma once
#include "davi/objectives/ikl.hpp"
#include "davi/objectives/kl.hpp"
