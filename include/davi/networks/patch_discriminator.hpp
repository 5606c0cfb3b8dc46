#pragma once
// The official DAVI code's pix2pixHD/PatchGAN discriminator (reference/davi-method.md 4.3):
// kernel 4, padding 2, LeakyReLU 0.2; channels C -> b -> 2b -> 4b -> 8b -> 1 with strides 2, 2, 2, 1, 1;
// BatchNorm on layers 2-4 (synchronised over the processes when trained data-parallel, as the official
// multi-GPU code's SyncBatchNorm). It is unconditional and
// returns the patch logits together with the four intermediate activations used for feature matching.
// Weights start from N(0, 0.02), BatchNorm scales from N(1, 0.02) and biases from 0.
#include <torch/torch.h>

#include "davi/core/options.hpp"
#include "davi/distributed/sync_batch_norm.hpp"
#include "davi/networks/mixed_precision.hpp"

#include <memory>
#include <utility>
#include <vector>

namespace davi::networks {

struct PatchDiscriminatorOptions {
  int image_channels = 1;
  int base_channels = 64;  // b: the official value; smaller images can do with less
  template <class V>
  void visit(V&& v) {
    v("image_channels", image_channels, "channels of the images", in_range(1, 64));
    v("base_channels", base_channels, "channels of the first layer (official: 64)", in_range(1, 4096));
  }
};

struct PatchDiscriminatorOutput {
  torch::Tensor logits;
  std::vector<torch::Tensor> features;  // after layers 1-4
};

class PatchDiscriminatorImpl : public torch::nn::Module {
 public:
  explicit PatchDiscriminatorImpl(const PatchDiscriminatorOptions& o) : options_(o) {
    const int b = o.base_channels;
    const int channels[] = {o.image_channels, b, 2 * b, 4 * b, 8 * b, 1};
    const int strides[] = {2, 2, 2, 1, 1};
    for (int i = 0; i < 5; ++i) {
      torch::nn::Sequential layer;
      layer->push_back(torch::nn::Conv2d(
          torch::nn::Conv2dOptions(channels[i], channels[i + 1], 4).stride(strides[i]).padding(2)));
      if (i >= 1 && i <= 3) layer->push_back(torch::nn::BatchNorm2d(channels[i + 1]));
      if (i < 4) layer->push_back(torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.2)));
      layers_.push_back(register_module("layer" + std::to_string(i + 1), layer));
    }
    initialise();
  }

  PatchDiscriminatorOutput forward(const torch::Tensor& x) {
    PatchDiscriminatorOutput out;
    auto h = mixed::enter(x);
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      for (auto& layer : *layers_[i]) {
        auto* norm = layer.ptr()->as<torch::nn::BatchNorm2d>();
        h = norm && synchronised_ && is_training() ? distributed::sync_batch_norm(*norm, h, *synchronised_)
                                                   : mixed::layer(layer, h);
      }
      if (i + 1 < layers_.size()) out.features.push_back(mixed::leave(h));  // losses on them are fp32
    }
    out.logits = mixed::leave(h);
    return out;
  }

  /// In training, BatchNorm over the rows of every process of `group` from now on (a group of one process
  /// changes nothing: its rows are the batch).
  void synchronise_batch_norm(std::shared_ptr<distributed::Group> group) {
    synchronised_ = group && group->size() > 1 ? std::move(group) : nullptr;
  }

  const PatchDiscriminatorOptions& options() const { return options_; }

 private:
  void initialise() {
    torch::NoGradGuard no_grad;
    for (auto& module : modules(/*include_self=*/false)) {
      if (auto* conv = module->as<torch::nn::Conv2d>()) {
        conv->weight.normal_(0.0, 0.02);
        conv->bias.zero_();
      } else if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
        bn->weight.normal_(1.0, 0.02);
        bn->bias.zero_();
      }
    }
  }

  PatchDiscriminatorOptions options_;
  std::vector<torch::nn::Sequential> layers_;
  std::shared_ptr<distributed::Group> synchronised_;  // null: each process's own rows
};
TORCH_MODULE(PatchDiscriminator);

}  // namespace davi::networks
