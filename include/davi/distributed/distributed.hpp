#pragma once
// Multi-process work: where a process stands (world.hpp), the collectives (group.hpp) and c10d's process
// groups behind them (c10d_group.hpp).
#include "davi/distributed/c10d_group.hpp"
#include "davi/distributed/data_parallel.hpp"
#include "davi/distributed/group.hpp"
#include "davi/distributed/world.hpp"
