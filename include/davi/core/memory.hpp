#pragma once
// A check before work that a run's tensors can fit: the estimate of what a setting allocates against the
// machine's physical memory, so an absurd batch or sample count is refused in one line by --validate
// instead of swapping for minutes and dying. Estimates are deliberately coarse (a factor for the working
// copies and activations); they catch settings off by orders of magnitude, not by a few percent.
#include <unistd.h>

#include <cstdint>
#include <string>

#include "davi/core/check.hpp"

namespace davi {

/// Bytes of physical memory of this machine (0 when unknown).
inline double physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<double>(pages) * static_cast<double>(page) : 0.0;
}

/// Refuses when `images` float32 images of `image_numel` values each, times `copies` (working copies and
/// activations per image), exceed physical memory; `what` names the options responsible.
inline void check_fits_memory(double images, double image_numel, double copies, const std::string& what) {
  const double need = images * image_numel * 4.0 * copies, have = physical_memory_bytes();
  DAVI_CHECK(have == 0 || need <= have, what, ": needs about ", static_cast<long long>(need / (1 << 20)),
             " MiB, more than this machine's ", static_cast<long long>(have / (1 << 20)), " MiB of memory");
}

}  // namespace davi
