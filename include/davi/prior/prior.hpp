#pragma once
#include "davi/prior/checkpoint.hpp"
#include "davi/prior/dsm.hpp"
#include "davi/prior/gaussian_prior.hpp"
#include "davi/prior/prior_trainer.hpp"
#include "davi/prior/sampling.hpp"
#include "davi/prior/score_prior.hpp"
