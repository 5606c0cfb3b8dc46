#pragma once
// Epsilon-prediction UNet in the style of DDPM/ADM: sinusoidal time embedding, residual blocks with
// GroupNorm and SiLU, self-attention at chosen resolutions, skip connections between the two paths.
// Every layer runs through networks/mixed_precision.hpp, so the thread's Compute setting (fp32 or bf16
// mixed precision, NCHW or channels_last) applies; parameters and outputs are fp32 either way.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "davi/core/check.hpp"
#include "davi/core/options.hpp"
#include "davi/networks/mixed_precision.hpp"
#include "davi/networks/parameter_count.hpp"

namespace davi::networks {

struct UNetOptions {
  int image_channels = 1;     // input and output channels
  int image_size = 28;        // used to decide where attention goes
  int base_channels = 32;
  std::vector<int> channel_mult = {1, 2, 2};
  int num_res_blocks = 1;               // per level on the way down (one more on the way up)
  std::vector<int> attention_resolutions = {7};
  int attention_heads = 1;
  int norm_groups = 8;                  // GroupNorm groups (reduced when a layer has fewer channels)
  double dropout = 0.0;

  template <class V>
  void visit(V&& v) {
    v("image_channels", image_channels, "channels of the images (input and output)", in_range(1, 64));
    v("image_size", image_size, "side of the (square) images; decides where attention goes", in_range(1, 4096));
    v("base_channels", base_channels, "channels at the first level", in_range(1, 4096));
    v("channel_mult", channel_mult, "channel multiplier per level; one level per entry (1 to 8 levels)",
      in_range(1, 64));
    v("num_res_blocks", num_res_blocks, "residual blocks per level", in_range(1, 16));
    v("attention_resolutions", attention_resolutions, "resolutions (sides) that get self-attention", at_least(1));
    v("attention_heads", attention_heads, "attention heads (must divide the channels where attention is)",
      in_range(1, 1024));
    v("norm_groups", norm_groups, "GroupNorm groups", in_range(1, 1024));
    v("dropout", dropout, "dropout probability inside residual blocks", in_range_below(0, 1));
  }
};

/// The most parameters a UNet may have (the official ADM 256 x 256 models have about 550 million).
inline constexpr double kMaxUNetParameters = 1e9;

/// Every check of UNet options, before any weight is allocated: the declared ranges and those that involve
/// several options. Messages name the option under `path` ("network.attention_heads: ...").
inline void check_unet_options(const UNetOptions& o, const std::string& path) {
  check_options(o, path);
  const auto levels = o.channel_mult.size();
  DAVI_CHECK(levels >= 1 && levels <= 8, path, ".channel_mult: expected 1 to 8 levels, got ", levels);
  double parameters = 0;  // the 3 x 3 convolutions, which dominate: two per residual block, down and up
  double in = o.base_channels;
  int resolution = o.image_size;
  for (std::size_t level = 0; level < levels; ++level) {
    const int out = o.base_channels * o.channel_mult[level];
    parameters += 9.0 * ((in + out) * out + (2.0 * out + out) * out * 2) * (o.num_res_blocks + 1);
    in = out;
    const bool attends = std::count(o.attention_resolutions.begin(), o.attention_resolutions.end(), resolution) > 0;
    const bool middle = level + 1 == levels;  // the middle block always attends
    DAVI_CHECK(!(attends || middle) || out % o.attention_heads == 0, path, ".attention_heads: ", o.attention_heads,
               " heads do not split the ", out, " channels of level ", level, " (", resolution, " x ", resolution, ")");
    if (!middle) resolution = (resolution + 1) / 2;
  }
  DAVI_CHECK(parameters <= kMaxUNetParameters, path, ": about ", static_cast<long long>(parameters),
             " parameters; expected at most ", static_cast<long long>(kMaxUNetParameters),
             " (reduce base_channels, channel_mult or num_res_blocks)");
}

/// ADM's embedding: [cos(t f_k), sin(t f_k)], f_k = max_period^(-k/half), on the raw integer timestep.
inline torch::Tensor timestep_embedding(const torch::Tensor& t, int dim, double max_period = 10000.0) {
  const int half = dim / 2;
  const auto freqs =
      torch::exp(-std::log(max_period) * torch::arange(half, t.options().dtype(torch::kFloat)) / half);
  const auto args = t.to(torch::kFloat).unsqueeze(1) * freqs.unsqueeze(0);
  return torch::cat({torch::cos(args), torch::sin(args)}, 1);
}

namespace detail {
inline torch::nn::GroupNorm group_norm(int channels, int groups) {
  int g = std::min(groups, channels);
  while (channels % g != 0) --g;
  return torch::nn::GroupNorm(torch::nn::GroupNormOptions(g, channels));
}
inline torch::nn::Conv2d conv3x3(int in, int out, int stride = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1));
}
/// Output layers start at zero so every block starts as the identity (as in ADM).
template <class Layer>
Layer zeroed(Layer layer) {
  torch::NoGradGuard no_grad;
  for (auto& p : layer->parameters()) p.zero_();
  return layer;
}
}  // namespace detail

class ResBlockImpl : public torch::nn::Module {
 public:
  ResBlockImpl(int in, int out, int embed_dim, int groups, double dropout)
      : norm1_(register_module("norm1", detail::group_norm(in, groups))),
        conv1_(register_module("conv1", detail::conv3x3(in, out))),
        embed_(register_module("embed", torch::nn::Linear(embed_dim, out))),
        norm2_(register_module("norm2", detail::group_norm(out, groups))),
        dropout_(register_module("dropout", torch::nn::Dropout(dropout))),
        conv2_(register_module("conv2", detail::zeroed(detail::conv3x3(out, out)))) {
    if (in != out) skip_ = register_module("skip", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1)));
  }

  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& emb) {
    auto h = mixed::conv2d(*conv1_, torch::silu(mixed::group_norm(*norm1_, x)));
    h = h + mixed::linear(*embed_, torch::silu(emb)).unsqueeze(-1).unsqueeze(-1);
    h = mixed::conv2d(*conv2_, dropout_(torch::silu(mixed::group_norm(*norm2_, h))));
    return (skip_ ? mixed::conv2d(*skip_, x) : x) + h;
  }

  /// Weight of the block's last layer.
  torch::Tensor& output_weight() { return conv2_->weight; }

 private:
  torch::nn::GroupNorm norm1_;
  torch::nn::Conv2d conv1_;
  torch::nn::Linear embed_;
  torch::nn::GroupNorm norm2_;
  torch::nn::Dropout dropout_;
  torch::nn::Conv2d conv2_;
  torch::nn::Conv2d skip_{nullptr};
};
TORCH_MODULE(ResBlock);

class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(int channels, int heads, int groups)
      : heads_(heads),
        norm_(register_module("norm", detail::group_norm(channels, groups))),
        qkv_(register_module("qkv", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, 3 * channels, 1)))),
        proj_(register_module("proj",
                              detail::zeroed(torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, channels, 1))))) {
    DAVI_CHECK(channels % heads == 0, "unet: ", channels, " channels do not split into ", heads, " attention heads");
  }

  torch::Tensor forward(const torch::Tensor& x) {
    const auto b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    const auto head_dim = c / heads_;
    const auto qkv = mixed::conv2d(*qkv_, mixed::group_norm(*norm_, x)).reshape({b * heads_, 3 * head_dim, h * w});
    const auto parts = qkv.chunk(3, 1);
    const double scale = 1.0 / std::sqrt(std::sqrt(static_cast<double>(head_dim)));
    const auto weights = mixed::softmax(mixed::bmm((parts[0] * scale).transpose(1, 2), parts[1] * scale), -1);
    const auto attended = mixed::bmm(parts[2], weights.transpose(1, 2));  // (b*heads, head_dim, h*w)
    // reshape of the (b*heads, head_dim, h*w) product gives NCHW; the projection keeps the input's layout
    return x + mixed::conv2d(*proj_, attended.reshape({b, c, h, w}).contiguous(x.suggest_memory_format()));
  }

 private:
  int heads_;
  torch::nn::GroupNorm norm_;
  torch::nn::Conv2d qkv_;
  torch::nn::Conv2d proj_;
};
TORCH_MODULE(Attention);

/// One element of either path: a residual block with optional attention, or a resampling conv.
class UNetBlockImpl : public torch::nn::Module {
 public:
  enum class Kind { kRes, kDown, kUp };

  UNetBlockImpl(ResBlock res, Attention attention) : kind_(Kind::kRes), res_(register_module("res", res)) {
    if (attention) attention_ = register_module("attention", attention);
  }
  UNetBlockImpl(Kind kind, int channels) : kind_(kind) {
    conv_ = register_module("conv", detail::conv3x3(channels, channels, kind == Kind::kDown ? 2 : 1));
  }

  Kind kind() const { return kind_; }
  ResBlock& res_block() { return res_; }

  /// `size` is the spatial size an up block resamples to (the matching skip's size; odd sizes allowed).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& emb, at::IntArrayRef size = {}) {
    switch (kind_) {
      case Kind::kDown:
        return mixed::conv2d(*conv_, x);
      case Kind::kUp:
        return mixed::conv2d(*conv_, torch::nn::functional::interpolate(
            x, torch::nn::functional::InterpolateFuncOptions().size(size.vec()).mode(torch::kNearest)));
      case Kind::kRes:
        break;
    }
    auto h = res_(x, emb);
    return attention_ ? attention_(h) : h;
  }

 private:
  Kind kind_;
  ResBlock res_{nullptr};
  Attention attention_{nullptr};
  torch::nn::Conv2d conv_{nullptr};
};
TORCH_MODULE(UNetBlock);

class UNetImpl : public torch::nn::Module {
 public:
  explicit UNetImpl(const UNetOptions& o) : options_(o) {
    check_unet_options(o, "unet");
    const int embed_dim = 4 * o.base_channels;
    time_embed_ = register_module("time_embed", torch::nn::Sequential(torch::nn::Linear(o.base_channels, embed_dim),
                                                                      torch::nn::SiLU(),
                                                                      torch::nn::Linear(embed_dim, embed_dim)));
    input_conv_ = register_module("input_conv", detail::conv3x3(o.image_channels, o.base_channels));

    const auto make_res = [&](int in, int out, int resolution) {
      const bool attend = std::find(o.attention_resolutions.begin(), o.attention_resolutions.end(), resolution) !=
                          o.attention_resolutions.end();
      return UNetBlock(ResBlock(in, out, embed_dim, o.norm_groups, o.dropout),
                       attend ? Attention(out, o.attention_heads, o.norm_groups) : Attention(nullptr));
    };

    std::vector<int> skip_channels = {o.base_channels};
    int channels = o.base_channels, resolution = o.image_size;
    const int levels = static_cast<int>(o.channel_mult.size());
    for (int level = 0; level < levels; ++level) {
      for (int i = 0; i < o.num_res_blocks; ++i) {
        const int out = o.base_channels * o.channel_mult[level];
        down_->push_back(make_res(channels, out, resolution));
        channels = out;
        skip_channels.push_back(channels);
      }
      if (level + 1 < levels) {
        down_->push_back(UNetBlock(UNetBlockImpl::Kind::kDown, channels));
        skip_channels.push_back(channels);
        resolution = (resolution + 1) / 2;
      }
    }
    middle_res1_ = register_module("middle_res1", ResBlock(channels, channels, embed_dim, o.norm_groups, o.dropout));
    middle_attention_ = register_module("middle_attention", Attention(channels, o.attention_heads, o.norm_groups));
    middle_res2_ = register_module("middle_res2", ResBlock(channels, channels, embed_dim, o.norm_groups, o.dropout));
    for (int level = levels - 1; level >= 0; --level) {
      for (int i = 0; i <= o.num_res_blocks; ++i) {
        const int out = o.base_channels * o.channel_mult[level];
        up_->push_back(make_res(channels + skip_channels.back(), out, resolution));
        skip_channels.pop_back();
        channels = out;
      }
      if (level > 0) {
        up_->push_back(UNetBlock(UNetBlockImpl::Kind::kUp, channels));
        resolution = resolution * 2;  // refined to the skip's exact size at run time
      }
    }
    register_module("down", down_);
    register_module("up", up_);
    output_norm_ = register_module("output_norm", detail::group_norm(channels, o.norm_groups));
    output_conv_ = register_module("output_conv", detail::zeroed(detail::conv3x3(channels, o.image_channels)));
  }

  /// x: N x C x H x W noisy images; t: N integer timesteps. Returns the predicted noise.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t) {
    DAVI_CHECK(x.dim() == 4 && x.size(1) == options_.image_channels, "unet: expected input N x ",
               options_.image_channels, " x H x W, got ", shape_string(x.sizes()));
    DAVI_CHECK(t.dim() == 1 && t.size(0) == x.size(0), "unet: expected one timestep per image, got t ",
               shape_string(t.sizes()), " for x ", shape_string(x.sizes()));
    auto& embed_in = *time_embed_[0]->as<torch::nn::Linear>();
    auto& embed_out = *time_embed_[2]->as<torch::nn::Linear>();
    const auto emb =
        mixed::linear(embed_out, torch::silu(mixed::linear(embed_in, timestep_embedding(t, options_.base_channels))));
    std::vector<torch::Tensor> skips;
    auto h = mixed::conv2d(*input_conv_, mixed::enter(x));
    skips.push_back(h);
    for (const auto& block : *down_) {
      h = block->as<UNetBlock>()->forward(h, emb);
      skips.push_back(h);
    }
    h = middle_res2_(middle_attention_(middle_res1_(h, emb)), emb);
    for (const auto& module : *up_) {
      auto* block = module->as<UNetBlock>();
      if (block->kind() == UNetBlockImpl::Kind::kUp) {
        h = block->forward(h, emb, skips.back().sizes().slice(2));
      } else {
        h = block->forward(torch::cat({h, skips.back()}, 1), emb);
        skips.pop_back();
      }
    }
    return mixed::leave(mixed::conv2d(*output_conv_, torch::silu(mixed::group_norm(*output_norm_, h))));
  }

  const UNetOptions& options() const { return options_; }

  /// Weight of the last layer inside the last output residual block (not the final output conv): the
  /// layer the official code measures gradient norms on for the adaptive adversarial weight.
  torch::Tensor& last_layer_weight() {
    return up_[up_->size() - 1]->as<UNetBlock>()->res_block()->output_weight();
  }

 private:
  UNetOptions options_;
  torch::nn::Sequential time_embed_{nullptr};
  torch::nn::Conv2d input_conv_{nullptr};
  torch::nn::ModuleList down_;
  ResBlock middle_res1_{nullptr};
  Attention middle_attention_{nullptr};
  ResBlock middle_res2_{nullptr};
  torch::nn::ModuleList up_;
  torch::nn::GroupNorm output_norm_{nullptr};
  torch::nn::Conv2d output_conv_{nullptr};
};
TORCH_MODULE(UNet);

}  // namespace davi::networks
