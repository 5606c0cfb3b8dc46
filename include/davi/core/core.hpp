#pragma once
#include "davi/core/atomic_file.hpp"
#include "davi/core/check.hpp"
#include "davi/core/device.hpp"
#include "davi/core/remove_tree.hpp"
#include "davi/core/rng.hpp"
#include "davi/core/threads.hpp"
#include "davi/core/timer.hpp"
