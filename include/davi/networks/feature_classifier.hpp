#pragma once
// A small Fashion-MNIST classifier whose activations are the feature space of davi's learned metrics
// (metrics/classifier_feature_distance.hpp, metrics/frechet_distance.hpp). Two conv blocks (conv-ReLU-conv-ReLU,
// 2x2 max-pool) and a fully connected embedding:
//   1 x 28 x 28 -> c x 14 x 14 -> 2c x 7 x 7 -> embedding (ReLU) -> 10 logits.
// Images are davi's usual [-1, 1] range; nothing is renormalised.
#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "davi/core/archive.hpp"
#include "davi/core/atomic_file.hpp"
#include "davi/core/options.hpp"
#include "davi/core/rng.hpp"
#include "davi/networks/mixed_precision.hpp"

namespace davi::networks {

struct FeatureClassifierOptions {
  int image_channels = 1;
  int image_size = 28;
  int channels = 32;
  int embedding = 128;
  int classes = 10;
  double dropout = 0.3;
  template <class V>
  void visit(V&& v) {
    v("image_channels", image_channels, "channels of the images", in_range(1, 64));
    v("image_size", image_size, "side of the square images (divisible by 4)", in_range(4, 4096));
    v("channels", channels, "channels of the first block (the second has twice as many)", in_range(1, 4096));
    v("embedding", embedding, "width of the embedding used by the Frechet distance", in_range(1, 65536));
    v("classes", classes, "number of classes", in_range(2, 100000));
    v("dropout", dropout, "dropout before the last layer while training (drawn from the trainer's seeded stream)",
      in_range_below(0, 1));
  }
};

struct ClassifierFeatures {
  std::vector<torch::Tensor> blocks;  // after each conv block, before pooling: N x c x H x W, N x 2c x H/2 x W/2
  torch::Tensor embedding;            // N x embedding
  torch::Tensor logits;               // N x classes
};

class FeatureClassifierImpl : public torch::nn::Module {
 public:
  explicit FeatureClassifierImpl(const FeatureClassifierOptions& o) : options_(o) {
    const int c = o.channels;
    block1_ = register_module("block1", conv_block(o.image_channels, c));
    block2_ = register_module("block2", conv_block(c, 2 * c));
    const int side = o.image_size / 4;
    embed_ = register_module("embed", torch::nn::Linear(2 * c * side * side, o.embedding));
    head_ = register_module("head", torch::nn::Linear(o.embedding, o.classes));
  }

  /// In training mode with dropout, `dropout_rng` draws the masks: a seeded stream of the caller's, never
  /// LibTorch's global generator, so training is reproducible and its state can be checkpointed.
  ClassifierFeatures features(const torch::Tensor& x, Rng* dropout_rng = nullptr) {
    ClassifierFeatures f;
    auto h = mixed::sequential(*block1_, mixed::enter(x));
    f.blocks.push_back(mixed::leave(h));
    h = mixed::sequential(*block2_, torch::max_pool2d(h, 2));
    f.blocks.push_back(mixed::leave(h));
    const auto embedding = torch::relu(mixed::linear(*embed_, torch::max_pool2d(h, 2).flatten(1)));
    f.embedding = mixed::leave(embedding);
    f.logits = mixed::leave(mixed::linear(*head_, dropout(embedding, dropout_rng)));
    return f;
  }

  torch::Tensor forward(const torch::Tensor& x, Rng* dropout_rng = nullptr) { return features(x, dropout_rng).logits; }

  const FeatureClassifierOptions& options() const { return options_; }

 private:
  static torch::nn::Sequential conv_block(int in, int out) {
    return torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1)),
                                 torch::nn::ReLU(),
                                 torch::nn::Conv2d(torch::nn::Conv2dOptions(out, out, 3).padding(1)),
                                 torch::nn::ReLU());
  }

  /// Inverted dropout: keep with probability 1 - p, scale the kept values by 1 / (1 - p) (the arithmetic
  /// of torch::nn::Dropout, with the caller's generator instead of the global one).
  at::Tensor dropout(const at::Tensor& x, Rng* rng) const {
    const double p = options_.dropout;
    if (!is_training() || p <= 0) return x;
    DAVI_CHECK(rng, "feature classifier: training with dropout needs a seeded Rng for its masks");
    auto keep = at::empty_like(x, x.options().device(rng->generator_device())).bernoulli_(1 - p, rng->generator()).to(x.device());
    keep.div_(1 - p);
    return x * keep;
  }

  FeatureClassifierOptions options_;
  torch::nn::Sequential block1_{nullptr}, block2_{nullptr};
  torch::nn::Linear embed_{nullptr}, head_{nullptr};
};
TORCH_MODULE(FeatureClassifier);

/// Writes the weights and the options (so loading needs nothing else), atomically.
inline void save_feature_classifier(FeatureClassifier& net, const std::filesystem::path& path) {
  write_atomically(path, [&](const std::filesystem::path& tmp) {
    torch::serialize::OutputArchive archive, weights;
    net->save(weights);
    archive.write("net", weights);
    archive.write("options", c10::IValue(options_to_json(net->options()).dump()));
    archive.save_to(tmp.string());
  });
}

/// Loads a classifier written by save_feature_classifier, in eval mode, onto `device`.
inline FeatureClassifier load_feature_classifier(const std::filesystem::path& path, const c10::Device& device) {
  DAVI_CHECK(std::filesystem::is_regular_file(path), path.string(),
             ": feature classifier not found (experiments/train_classifier.json trains it)");
  torch::serialize::InputArchive archive, weights;
  read_archive(archive, path, c10::kCPU, "davi feature classifier");  // built on the CPU, then moved
  c10::IValue options;
  DAVI_CHECK(archive.try_read("options", options) && options.isString() && archive.try_read("net", weights),
             path.string(), ": not a davi feature classifier (missing options or net)");
  const auto json = nlohmann::json::parse(options.toStringRef(), nullptr, /*allow_exceptions=*/false);
  DAVI_CHECK(json.is_object(), path.string(), ": not a davi feature classifier (its options are not a JSON object)");
  FeatureClassifier net(options_from_json<FeatureClassifierOptions>(json, path.string() + ":options"));
  load_weights(*net, weights, path);
  net->to(device);
  net->eval();
  return net;
}

}  // namespace davi::networks
