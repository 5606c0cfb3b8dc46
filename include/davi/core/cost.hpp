#pragma once
// What a method spends on the network, counted the same way for every method: one network evaluation
// is one forward pass of the prior-sized network over the batch, one backprop one vector-Jacobian
// product through it. Per measurement of the batch, so the counts do not depend on the batch size.
#include <cstdint>

namespace davi {

struct Cost {
  std::int64_t network_evaluations = 0;
  std::int64_t network_backprops = 0;
};

}  // namespace davi
