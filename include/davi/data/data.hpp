#pragma once
#include "davi/data/fashion_mnist.hpp"
#include "davi/data/idx.hpp"
#include "davi/data/png.hpp"
