#pragma once
// The layers of davi's networks under the thread's Compute setting (core/precision.hpp). Each helper
// takes the ordinary torch::nn module, so parameter names and checkpoints do not depend on precision:
//   fp32: the module's own forward, exactly as without these helpers;
//   bf16: convolutions, linear layers and batched products on bf16 copies of input and parameters
//         (the casts are differentiable: gradients arrive in the fp32 parameters); GroupNorm/BatchNorm
//         statistics and softmax in fp32, their outputs rounded back to bf16.
// enter() brings a network's input to the compute dtype and layout, leave() returns fp32 NCHW.
//
// The helpers also count the floating-point operations of what they run when a FlopCounter is open,
// so benchmarks report GFLOP/s of exactly the layers that were executed.
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <cstdint>

#include "davi/core/check.hpp"
#include "davi/core/precision.hpp"
#include "davi/core/torch_compat.hpp"

namespace davi::networks {

namespace detail {
inline std::int64_t*& flop_sink() {
  thread_local std::int64_t* sink = nullptr;
  return sink;
}
inline void add_flops(std::int64_t n) {
  if (auto* sink = flop_sink()) *sink += n;
}
}  // namespace detail

/// Counts the multiply-add FLOPs (2 per MAC) of the convolutions, linear layers and batched products run
/// on this thread while it lives (forward passes only: a backward pass costs about twice the forward).
class FlopCounter {
 public:
  FlopCounter() : previous_(detail::flop_sink()) { detail::flop_sink() = &flops_; }
  ~FlopCounter() { detail::flop_sink() = previous_; }
  FlopCounter(const FlopCounter&) = delete;
  FlopCounter& operator=(const FlopCounter&) = delete;
  std::int64_t flops() const { return flops_; }

 private:
  std::int64_t flops_ = 0;
  std::int64_t* previous_;
};

namespace mixed {

inline bool low_precision() { return current_compute().precision != Precision::fp32; }
/// The legacy path (fp32, NCHW): the modules' own forward, bit for bit what davi computed before.
inline bool default_path() { return current_compute() == Compute{}; }

/// A parameter (or an undefined bias) in the compute dtype; 4-D tensors also in the compute layout
/// (oneDNN picks its channels_last kernels only when the input or the weight is channels_last, and a
/// 1-channel input cannot say so). The copies are differentiable, so gradients reach the parameter.
inline at::Tensor cast(const at::Tensor& t) {
  if (!t.defined()) return t;
  const auto c = current_compute();
  auto out = t.to(c.dtype());
  return out.dim() == 4 ? out.contiguous(c.layout()) : out;
}

/// A network's input: compute dtype, and the compute layout for images (the same conversion as cast).
inline at::Tensor enter(const at::Tensor& x) { return cast(x); }

/// A network's output: fp32 in the default (NCHW) layout, whatever the computation used.
inline at::Tensor leave(const at::Tensor& x) { return x.to(at::kFloat).contiguous(); }

inline at::Tensor conv2d(torch::nn::Conv2dImpl& conv, const at::Tensor& x) {
  const auto& o = conv.options;
  at::Tensor out;
  if (default_path()) {
    out = conv.forward(x);
  } else {
    const auto* padding = compat::get_if<torch::ExpandingArray<2>>(&o.padding());
    DAVI_CHECK(padding && compat::get_if<torch::enumtype::kZeros>(&o.padding_mode()),
               "mixed precision: only zero-padded convolutions with explicit padding are supported");
    out = at::conv2d(enter(x), cast(conv.weight), cast(conv.bias), *o.stride(), **padding, *o.dilation(),
                     o.groups());
  }
  const auto& k = *o.kernel_size();
  detail::add_flops(2 * out.numel() * (o.in_channels() / o.groups()) * k[0] * k[1]);
  return out;
}

inline at::Tensor linear(torch::nn::LinearImpl& layer, const at::Tensor& x) {
  const auto out = low_precision() ? at::linear(enter(x), cast(layer.weight), cast(layer.bias)) : layer.forward(x);
  detail::add_flops(2 * out.numel() * layer.options.in_features());
  return out;
}

/// GroupNorm with statistics in fp32; the output in the input's dtype and layout. LibTorch 1.13's CPU
/// GroupNorm backward is about 3x slower on channels_last input than on NCHW, so it runs on an NCHW copy.
inline at::Tensor group_norm(torch::nn::GroupNormImpl& norm, const at::Tensor& x) {
  if (default_path()) return norm.forward(x);
  const auto layout = x.suggest_memory_format();
  return norm.forward(x.to(at::kFloat).contiguous()).to(x.scalar_type()).contiguous(layout);
}

/// BatchNorm with statistics (and running buffers) in fp32; the output in the input's dtype.
inline at::Tensor batch_norm(torch::nn::BatchNorm2dImpl& norm, const at::Tensor& x) {
  if (!low_precision()) return norm.forward(x);
  return norm.forward(x.to(at::kFloat)).to(x.scalar_type());
}

/// Softmax computed in fp32; the output in the input's dtype.
inline at::Tensor softmax(const at::Tensor& x, std::int64_t dim) {
  if (!low_precision()) return at::softmax(x, dim);
  return at::softmax(x, dim, at::kFloat).to(x.scalar_type());
}

inline at::Tensor bmm(const at::Tensor& a, const at::Tensor& b) {
  detail::add_flops(2 * a.size(0) * a.size(1) * a.size(2) * b.size(2));
  return at::bmm(a, b);
}

/// One layer of a Sequential through the helper above that matches its type (activations and pooling keep
/// their input's dtype and run as themselves).
inline at::Tensor layer(torch::nn::AnyModule& layer, const at::Tensor& x) {
  auto* module = layer.ptr().get();
  if (auto* conv = module->as<torch::nn::Conv2d>()) return conv2d(*conv, x);
  if (auto* fc = module->as<torch::nn::Linear>()) return linear(*fc, x);
  if (auto* bn = module->as<torch::nn::BatchNorm2d>()) return batch_norm(*bn, x);
  if (auto* gn = module->as<torch::nn::GroupNorm>()) return group_norm(*gn, x);
  return layer.forward(x);
}

/// A Sequential's layers in order, each through layer().
inline at::Tensor sequential(torch::nn::SequentialImpl& layers, at::Tensor x) {
  for (auto& each : layers) x = layer(each, x);
  return x;
}

}  // namespace mixed
}  // namespace davi::networks
