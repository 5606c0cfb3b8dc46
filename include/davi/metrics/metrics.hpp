#pragma once
#include "davi/metrics/feature_distance.hpp"
#include "davi/metrics/frechet_distance.hpp"
#include "davi/metrics/psnr.hpp"
#include "davi/metrics/sample_statistics.hpp"
#include "davi/metrics/ssim.hpp"
