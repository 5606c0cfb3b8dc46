// Where the time of one training step goes: runs a few steps under LibTorch's profiler and prints the
// self time of every operator, grouped by kind (convolution forward/backward, GroupNorm, SiLU,
// attention, casts, optimiser, EMA, ...). docs/performance.md quotes it. The step leaves out the
// adversarial term, as bm_davi.
//   davi_profile [davi_step|dsm_step|unet_forward] [batch] [path] [steps]
//   path: 0 fp32/nchw, 1 bf16/channels_last, 2 fp32/channels_last, 3 bf16/nchw (benchmarks/bench_paths.hpp)
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "bench_paths.hpp"
#include "davi/amortized/davi.hpp"
#include "davi/bridges/ppb.hpp"
#include "davi/core/threads.hpp"
#include "davi/core/timer.hpp"
#include "davi/objectives/ikl.hpp"
#include "davi/operators/gaussian_blur.hpp"
#include "davi/prior/prior_trainer.hpp"
#include "davi/schedules/sqrt_linear.hpp"

using namespace davi;

namespace {

/// The kind an operator's self time is reported under; scopes davi marks itself come first.
std::string kind_of(const std::string& op, const std::string& scope) {
  if (!scope.empty()) return scope;
  const auto has = [&](const char* s) { return op.find(s) != std::string::npos; };
  if (has("onvolution") || has("conv2d")) return has("Backward") || has("backward") ? "convolution backward" : "convolution forward";
  if (has("group_norm") || has("GroupNorm") || has("native_batch_norm") || has("BatchNorm")) return "normalisation";
  if (has("silu") || has("Silu")) return "SiLU";
  if (has("bmm") || has("Bmm") || has("softmax") || has("Softmax")) return "attention (bmm, softmax)";
  if (has("addmm") || has("Addmm") || has("linear") || has("mm")) return "linear layers";
  if (has("_to_copy") || has("copy_") || has("ToCopy") || has("contiguous") || has("clone")) return "casts and layout copies";
  if (has("upsample") || has("Upsample")) return "upsampling";
  if (has("cat") || has("Cat")) return "concatenation";
  return "other elementwise and autograd";
}

struct Totals {
  std::map<std::string, double> by_kind, by_op;
  double total = 0;
};

/// Self time per operator from a chrome trace of the legacy profiler ("X" events, microseconds).
Totals self_times(const std::string& trace) {
  auto events = nlohmann::json::parse(trace);
  struct Event { double start, end; std::string name; };
  std::map<long long, std::vector<Event>> by_thread;
  for (const auto& e : events) {
    if (e.value("ph", "") != "X") continue;
    by_thread[e.value("tid", 0LL)].push_back({e["ts"].get<double>(), e["ts"].get<double>() + e["dur"].get<double>(),
                                              e["name"].get<std::string>()});
  }
  Totals totals;
  for (auto& [tid, list] : by_thread) {
    std::sort(list.begin(), list.end(), [](const Event& a, const Event& b) {
      return a.start < b.start || (a.start == b.start && a.end > b.end);
    });
    struct Open { Event event; double children = 0; };
    std::vector<Open> stack;
    const auto close = [&](Open& o) {
      std::string scope;
      for (const auto& s : stack)
        if (s.event.name.rfind("davi::", 0) == 0) scope = s.event.name.substr(6);
      if (o.event.name.rfind("davi::", 0) == 0) scope = o.event.name.substr(6);
      const double self = o.event.end - o.event.start - o.children;
      totals.by_op[o.event.name] += self;
      totals.by_kind[kind_of(o.event.name, scope)] += self;
      totals.total += self;
    };
    for (const auto& e : list) {
      while (!stack.empty() && stack.back().event.end <= e.start) {
        auto done = stack.back();
        stack.pop_back();
        close(done);
        if (!stack.empty()) stack.back().children += done.event.end - done.event.start;
      }
      stack.push_back({e});
    }
    while (!stack.empty()) {
      auto done = stack.back();
      stack.pop_back();
      close(done);
      if (!stack.empty()) stack.back().children += done.event.end - done.event.start;
    }
  }
  return totals;
}

using Deblur = amortized::Davi<operators::GaussianBlur, objectives::Ikl, bridges::Ppb>;

}  // namespace

int main(int argc, char** argv) {
  const std::string what = argc > 1 ? argv[1] : "davi_step";
  const std::int64_t batch = argc > 2 ? std::stoll(argv[2]) : 32;
  const auto compute = bench::path(argc > 3 ? std::stoll(argv[3]) : 0);
  const int steps = argc > 4 ? std::stoi(argv[4]) : 3;
  const int threads = set_threads(0);
  ComputeScope scope(compute);

  std::function<void()> step;
  networks::UNet net(networks::UNetOptions{});
  prior::ScorePrior p(net, schedules::SqrtLinear());
  const auto x0 = at::rand({batch, 1, 28, 28}) * 2 - 1;
  std::unique_ptr<Deblur> davi;
  std::unique_ptr<prior::PriorTrainer> trainer;
  Rng batches(1);
  if (what == "davi_step") {
    davi = std::make_unique<Deblur>(Deblur::from_prior(
        p, operators::GaussianBlur({.kernel_size = 11, .sigma = 1.5}, {1, 28, 28}),
        operators::GaussianNoise({.sigma_y = 0.05}), {.adversarial = false}, {.t_max = 400}, {.h = 0.1}, 0));
    step = [&] { davi->train_step(x0); };
  } else if (what == "dsm_step") {
    prior::PriorTrainingOptions o;
    o.batch_size = static_cast<int>(batch);
    trainer = std::make_unique<prior::PriorTrainer>(networks::UNetOptions{}, schedules::SqrtLinear(), nlohmann::json{},
                                                    o, x0, 0, c10::kCPU);
    step = [&] { trainer->train_step(batches); };
  } else if (what == "unet_forward") {
    step = [&] {
      torch::NoGradGuard g;
      net->forward(x0, at::full({batch}, 999, at::kLong));
    };
  } else {
    std::cerr << "davi_profile: unknown \"" << what << "\"; expected one of: davi_step, dsm_step, unet_forward\n";
    return 2;
  }
  step();  // warm-up: oneDNN primitive creation, allocator
  Timer timer;
  for (int i = 0; i < steps; ++i) step();
  const double unprofiled = timer.seconds() / steps;

  std::ostringstream trace;
  {
    torch::autograd::profiler::RecordProfile profile(trace);
    for (int i = 0; i < steps; ++i) step();
  }
  const auto totals = self_times(trace.str());
  std::printf("%s, batch %lld, %s, %d threads: %.1f ms per step without the profiler\n", what.c_str(),
              static_cast<long long>(batch), bench::path_label(compute).c_str(), threads, 1e3 * unprofiled);
  std::vector<std::pair<double, std::string>> kinds;
  for (const auto& [k, t] : totals.by_kind) kinds.push_back({t, k});
  std::sort(kinds.rbegin(), kinds.rend());
  std::printf("| kind | ms per step | share |\n|---|---|---|\n");
  for (const auto& [t, k] : kinds)
    std::printf("| %s | %.1f | %.1f%% |\n", k.c_str(), t / 1e3 / steps, 100 * t / totals.total);
  std::printf("| total (profiled) | %.1f | |\n\ntop operators:\n", totals.total / 1e3 / steps);
  std::vector<std::pair<double, std::string>> ops;
  for (const auto& [k, t] : totals.by_op) ops.push_back({t, k});
  std::sort(ops.rbegin(), ops.rend());
  for (std::size_t i = 0; i < ops.size() && i < 15; ++i)
    std::printf("  %-50s %8.1f ms\n", ops[i].second.c_str(), ops[i].first / 1e3 / steps);
  return 0;
}
