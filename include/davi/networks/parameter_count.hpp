#pragma once
#include <torch/nn/module.h>

#include <cstdint>

namespace davi::networks {

/// Number of trainable scalars of any module.
inline std::int64_t parameter_count(torch::nn::Module& module) {
  std::int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace davi::networks
