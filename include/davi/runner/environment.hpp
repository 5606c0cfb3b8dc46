#pragma once
// What every metrics.json records about where and how it was produced.
#include <ATen/Parallel.h>
#include <torch/version.h>

#include <array>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "davi/core/cuda_info.hpp"
#include "davi/runner/run_options.hpp"

namespace davi::runner {

/// The git commit of the working directory, or "unknown" outside a repository.
inline std::string git_sha() {
  std::array<char, 128> buf{};
  std::string sha;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen("git rev-parse HEAD 2>/dev/null", "r"), ::pclose);
  if (pipe && std::fgets(buf.data(), buf.size(), pipe.get())) sha = buf.data();
  while (!sha.empty() && (sha.back() == '\n' || sha.back() == '\r')) sha.pop_back();
  return sha.empty() ? "unknown" : sha;
}

inline nlohmann::json environment_json(const RunPlace& place) {
  nlohmann::json env = {{"device", place.device.str()},
          {"threads", place.threads},
          {"precision", to_string(place.compute.precision)},
          {"memory_format", to_string(place.compute.memory_format)},
          {"cpu_native_bf16", cpu_has_native_bf16()},
          {"libtorch", TORCH_VERSION},
          {"compiler", __VERSION__},
          {"git_sha", git_sha()}};
  if (place.device.is_cuda()) {
    const auto info = cuda_info(place.device);
    env["gpu"] = info.gpu;
    env["compute_capability"] = info.compute_capability;
    env["cuda_runtime"] = info.cuda_runtime;
    env["cudnn"] = info.cudnn;
    const auto& ctx = at::globalContext();
    env["cuda_switches"] = {{"tf32", ctx.allowTF32CuBLAS()},
                            {"cudnn_benchmark", ctx.benchmarkCuDNN()},
                            {"deterministic", ctx.deterministicAlgorithms()}};
  }
  return env;
}

}  // namespace davi::runner
