#pragma once
// What a CUDA run records about its GPU and libraries. The GPU's name needs LibTorch's CUDA headers,
// present only in a CUDA build of LibTorch (CMake defines DAVI_WITH_CUDA there); the versions come
// through LibTorch's CUDA hooks, which every build has.
#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/Device.h>

#include <string>

#ifdef DAVI_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

namespace davi {

struct CudaInfo {
  std::string gpu = "unknown";  // device name, as the driver reports it
  long cuda_runtime = 0;        // CUDART version LibTorch was built with, e.g. 13020 for 13.2
  long cudnn = 0;               // cuDNN version LibTorch was built with, e.g. 92600 for 9.26.0 (0: none)
  int compute_capability = 0;   // major * 10 + minor, e.g. 90 for an H100/H200
};

/// Facts about the CUDA device `device` (call only where at::hasCUDA()).
inline CudaInfo cuda_info(const c10::Device& device) {
  CudaInfo info;
  const auto& hooks = at::detail::getCUDAHooks();
  info.cuda_runtime = hooks.versionCUDART();
  info.cudnn = hooks.hasCuDNN() ? hooks.versionCuDNN() : 0;
#ifdef DAVI_WITH_CUDA
  const auto* props = at::cuda::getDeviceProperties(device.has_index() ? device.index() : 0);
  info.gpu = props->name;
  info.compute_capability = props->major * 10 + props->minor;
#endif
  return info;
}

}  // namespace davi
