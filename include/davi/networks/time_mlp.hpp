#pragma once
// A small epsilon network for low-dimensional problems (the Gaussian toy of the tests): the image is
// flattened, concatenated with a sinusoidal embedding of t, and passed through an MLP. Same call
// signature as the UNet, so it can stand in for it wherever a network is a template parameter.
#include <torch/torch.h>

#include <vector>

#include "davi/core/check.hpp"
#include "davi/networks/unet.hpp"

namespace davi::networks {

struct TimeMlpOptions {
  std::vector<std::int64_t> image_shape = {1, 2, 2};  // C x H x W
  int hidden = 128;
  int layers = 3;
  int time_dim = 32;
  template <class V>
  void visit(V&& v) {
    v("image_shape", image_shape, "C x H x W of the images");
    v("hidden", hidden, "width of the hidden layers");
    v("layers", layers, "hidden layers");
    v("time_dim", time_dim, "size of the sinusoidal time embedding");
  }
};

class TimeMlpImpl : public torch::nn::Module {
 public:
  explicit TimeMlpImpl(const TimeMlpOptions& o) : options_(o) {
    DAVI_CHECK(o.image_shape.size() == 3 && o.layers >= 1, "time_mlp: image_shape must be C x H x W, layers >= 1");
    const auto dim = o.image_shape[0] * o.image_shape[1] * o.image_shape[2];
    std::int64_t in = dim + o.time_dim;
    for (int i = 0; i < o.layers; ++i) {
      body_->push_back(torch::nn::Linear(in, o.hidden));
      body_->push_back(torch::nn::SiLU());
      in = o.hidden;
    }
    body_->push_back(torch::nn::Linear(in, dim));
    register_module("body", body_);
  }

  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t) {
    const auto n = x.size(0);
    const auto features = torch::cat({x.reshape({n, -1}), timestep_embedding(t, options_.time_dim).to(x.dtype())}, 1);
    return mixed::leave(mixed::sequential(*body_, mixed::enter(features))).reshape(x.sizes());
  }

  const TimeMlpOptions& options() const { return options_; }
  /// Weight of the output layer (for the adaptive adversarial weight).
  torch::Tensor& last_layer_weight() { return body_[body_->size() - 1]->as<torch::nn::Linear>()->weight; }

 private:
  TimeMlpOptions options_;
  torch::nn::Sequential body_;
};
TORCH_MODULE(TimeMlp);

}  // namespace davi::networks
