#pragma once
#include "davi/bridges/none.hpp"
#include "davi/bridges/ppb.hpp"
