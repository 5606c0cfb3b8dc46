#pragma once
// DAVI's one-step generator and what every amortized method shares with it: the parameterisation
//   x_hat = tanh(x_in - sigma_f(t') eps(x_in, t'))
// (I2SB's x0-from-noise formula on the prior-shaped network, reference/davi-method.md 1.2), and
// networks started as copies of the prior's.
#include <torch/torch.h>

#include "davi/bridges/coefficients.hpp"
#include "davi/concepts.hpp"
#include "davi/prior/dsm.hpp"

namespace davi::amortized {

/// x_hat = tanh(x_in - sigma_f(t') net(x_in, t')) for a bridge input {x_in, t'}.
template <class Net, class Br>
at::Tensor generate(Net& net, const Br& bridge, const BridgeInput& in) {
  return at::tanh(in.x_in - bridges::per_sample(bridge.sigma_f(in.t)).to(in.x_in.dtype()) * net->forward(in.x_in, in.t));
}

/// A new network with `initial`'s options and weights, on `device`.
template <class Net>
Net clone_network(Net& initial, const c10::Device& device) {
  Net copy(initial->options());
  prior::copy_weights(*copy, *initial);
  copy->to(device);
  return copy;
}

}  // namespace davi::amortized
