// The prior's UNet (the configuration of experiments/train_prior.json): forward, and forward +
// backward, at batch 1 and 64, in NCHW and channels_last layouts.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "davi/core/threads.hpp"
#include "davi/networks/unet.hpp"

using namespace davi;

namespace {

networks::UNet prior_sized_unet(bool channels_last) {
  networks::UNet net(networks::UNetOptions{});  // defaults = the committed prior's architecture
  if (channels_last) networks::use_channels_last(*net);
  return net;
}

at::Tensor input(std::int64_t batch, bool channels_last) {
  auto x = at::randn({batch, 1, 28, 28});
  return channels_last ? x.contiguous(at::MemoryFormat::ChannelsLast) : x;
}

void BM_UNetForward(benchmark::State& state) {
  set_threads(0);
  const bool channels_last = state.range(1) != 0;
  auto net = prior_sized_unet(channels_last);
  net->eval();
  const auto x = input(state.range(0), channels_last);
  const auto t = at::randint(0, 1000, {state.range(0)}, at::kLong);
  torch::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(net->forward(x, t));
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["parameters"] = static_cast<double>(networks::parameter_count(*net));
}

void BM_UNetForwardBackward(benchmark::State& state) {
  set_threads(0);
  const bool channels_last = state.range(1) != 0;
  auto net = prior_sized_unet(channels_last);
  const auto x = input(state.range(0), channels_last);
  const auto t = at::randint(0, 1000, {state.range(0)}, at::kLong);
  for (auto _ : state) {
    net->zero_grad();
    net->forward(x, t).square().mean().backward();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

BENCHMARK(BM_UNetForward)->ArgNames({"batch", "channels_last"})->ArgsProduct({{1, 64}, {0, 1}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_UNetForwardBackward)->ArgNames({"batch", "channels_last"})->ArgsProduct({{1, 64}, {0, 1}})->Unit(benchmark::kMillisecond);

}  // namespace
