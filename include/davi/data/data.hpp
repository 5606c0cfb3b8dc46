#pragma once
#include "davi/data/fashion_mnist.hpp"
#include "davi/data/idx.hpp"
#include "davi/data/image_file.hpp"
#include "davi/data/image_folder.hpp"
#include "davi/data/labelled_images.hpp"
#include "davi/data/png.hpp"
