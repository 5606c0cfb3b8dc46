#pragma once
// BatchNorm over the rows of every process of a group (the official multi-GPU code's SyncBatchNorm), so that
// a discriminator trained data-parallel normalises with the statistics of the global batch, as one process
// does. Two sums over the processes per layer and pass (the channel means, then the squared deviations from
// them), each differentiable: its backward sums the gradients over the processes, which with the gradients
// averaged afterwards (DataParallel) gives each parameter the global batch's gradient.
#include <torch/autograd.h>
#include <torch/nn/modules/batchnorm.h>

#include <cstdint>
#include <vector>

#include "davi/distributed/group.hpp"

namespace davi::distributed {

namespace detail {
/// Sums a tensor over the processes of a group; its backward does the same to the gradient.
struct SumOverProcesses : torch::autograd::Function<SumOverProcesses> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& local, Group* group) {
    ctx->saved_data["group"] = static_cast<std::int64_t>(reinterpret_cast<std::intptr_t>(group));
    return sum(local, *group);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list gradients) {
    auto* group = reinterpret_cast<Group*>(static_cast<std::intptr_t>(ctx->saved_data["group"].toInt()));
    return {sum(gradients[0], *group), at::Tensor()};
  }
  static at::Tensor sum(const at::Tensor& local, Group& group) {
    std::vector<at::Tensor> buffer{local.contiguous().clone()};
    group.sum_(buffer);
    return buffer[0];
  }
};
}  // namespace detail

/// `norm` in training mode over the rows of `x` [N, C, H, W] on every process of `group` (every process
/// calls it at the same point with the same C): statistics in fp32, the output in x's dtype and layout;
/// the running statistics are updated as BatchNorm2d does (the variance unbiased over the global count).
inline at::Tensor sync_batch_norm(torch::nn::BatchNorm2dImpl& norm, const at::Tensor& x, Group& group) {
  const auto& options = norm.options;
  const auto xf = x.to(at::kFloat);
  const std::vector<std::int64_t> over_rows{0, 2, 3};
  const auto channel = [](const at::Tensor& v) { return v.view({1, -1, 1, 1}); };
  // The local count rides with the sums, so processes may hold different numbers of rows.
  const auto count_here = at::full({1}, static_cast<double>(xf.numel() / xf.size(1)), xf.options());
  const auto totals = detail::SumOverProcesses::apply(at::cat({xf.sum(over_rows), count_here}), &group);
  const auto channels = xf.size(1);
  const auto count = totals[channels].detach();
  const auto mean = totals.narrow(0, 0, channels) / count;
  const auto centred = xf - channel(mean);
  const auto var = detail::SumOverProcesses::apply(centred.square().sum(over_rows), &group) / count;
  auto y = centred * channel(at::rsqrt(var + options.eps()));
  if (options.affine()) y = y * channel(norm.weight) + channel(norm.bias);
  if (options.track_running_stats()) {
    at::NoGradGuard no_grad;
    norm.num_batches_tracked.add_(1);
    const double momentum = options.momentum().has_value()
                                ? *options.momentum()
                                : 1.0 / static_cast<double>(norm.num_batches_tracked.item<std::int64_t>());
    const double n = count.item<double>();
    norm.running_mean.mul_(1 - momentum).add_(mean.detach(), momentum);
    norm.running_var.mul_(1 - momentum).add_(var.detach() * (n / std::max(n - 1, 1.0)), momentum);
  }
  return y.to(x.scalar_type()).contiguous(x.suggest_memory_format());
}

}  // namespace davi::distributed
