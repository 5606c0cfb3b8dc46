#pragma once
// What every metrics.json records about where and how it was produced.
#include <ATen/Parallel.h>
#include <torch/version.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <istream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
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

/// The CPU as /proc/cpuinfo's first processor describes it: its model name and the bf16 kernels oneDNN
/// picks from its flags ("amx" before "avx512_bf16", else "none"). A bf16 run is bit-identical on two
/// CPUs with the same kernels and differs from step 0 between AMX and AVX-512 BF16 (docs/reproduction.md),
/// so this says which runs can be compared digit for digit. Fields missing from the text read "unknown".
inline nlohmann::json cpu_description(std::istream& cpuinfo) {
  std::string model, flags, line;
  while (std::getline(cpuinfo, line) && !line.empty()) {  // an empty line ends the first processor
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto key = line.substr(0, colon);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    const auto value = line.substr(std::min(line.size(), colon + 2));
    if (key == "model name") model = value;
    if (key == "flags") flags = value;
  }
  bool amx = false, avx512_bf16 = false;
  std::istringstream words(flags);
  for (std::string flag; words >> flag;) {
    amx = amx || flag == "amx_bf16";
    avx512_bf16 = avx512_bf16 || flag == "avx512_bf16";
  }
  const std::string kernels = flags.empty() ? "unknown" : amx ? "amx" : avx512_bf16 ? "avx512_bf16" : "none";
  return {{"model", model.empty() ? "unknown" : model}, {"bf16_kernels", kernels}};
}

inline nlohmann::json cpu_description() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  return cpu_description(cpuinfo);
}

inline nlohmann::json environment_json(const RunPlace& place) {
  nlohmann::json env = {{"device", place.device.str()},
          {"threads", place.threads},
          {"precision", to_string(place.compute.precision)},
          {"memory_format", to_string(place.compute.memory_format)},
          {"cpu_native_bf16", cpu_has_native_bf16()},
          {"cpu", cpu_description()},
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
