#pragma once
// The per-measurement methods (davi::Solver): classical references and diffusion-prior baselines.
#include "davi/solvers/ddnm.hpp"
#include "davi/solvers/ddrm.hpp"
#include "davi/solvers/dps.hpp"
#include "davi/solvers/lift.hpp"
#include "davi/solvers/pigdm.hpp"
#include "davi/solvers/pinv.hpp"
#include "davi/solvers/published_settings.hpp"
#include "davi/solvers/reddiff.hpp"
#include "davi/solvers/tikhonov.hpp"
