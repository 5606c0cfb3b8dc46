#pragma once
// The `data` section every kind that reads images has: the data set (a policy of the registry), and the
// checks that a network's image options, or a prior checkpoint, agree with it.
#include <string>

#include "davi/core/check.hpp"
#include "davi/core/memory.hpp"
#include "davi/core/options.hpp"
#include "davi/prior/checkpoint.hpp"
#include "davi/runner/policy.hpp"
#include "davi/runner/registry.hpp"

namespace davi::runner {

inline constexpr const char* kDatasetHelp =
    "data set: a name or {name, options...}; its image shape and split sizes size everything else";

/// data: {"dataset": ...} for the kinds that need nothing else of the data.
struct DatasetOptions {
  Policy<DatasetTypes> dataset{"fashion_mnist"};
  template <class V>
  void visit(V&& v) {
    v("dataset", dataset, kDatasetHelp);
  }
};

/// Refuses a network built for other images than the data set's: `path` names the network's options.
inline void check_network_fits(int image_channels, int image_size, const DatasetVariant& data,
                               const std::string& path) {
  const Shape shape = image_shape_of(data);
  DAVI_CHECK(image_channels == shape[0], path, ".image_channels: expected ", shape[0], " (the data set's), got ",
             image_channels);
  DAVI_CHECK(image_size == shape[1], path, ".image_size: expected ", shape[1], " (the data set's), got ", image_size);
}

/// Refuses a number of images of a split beyond the split's size, naming the option at `path` (a count
/// larger than the data is a mistake, not a cap). `zero_means_all`: 0 stands for the whole split.
inline void check_count_in_split(std::int64_t count, const DatasetVariant& data, const std::string& split,
                                 const std::string& path, bool zero_means_all) {
  const auto available = split_size_of(data, split);
  DAVI_CHECK(count <= available, path, ": expected a value in [", zero_means_all ? 0 : 1, ", ", available, "] (the ",
             split, " split's images", zero_means_all ? "; 0 = all" : "", "), got ", count);
}

/// Refuses a training batch whose activations cannot fit: about 64 values per image value and network
/// channel (forward and backward through a UNet-like network of `base_channels`).
inline void check_training_batch_fits(int batch_size, int base_channels, const DatasetVariant& data,
                                      const std::string& path) {
  const Shape shape = image_shape_of(data);
  check_fits_memory(batch_size, static_cast<double>(shape[0] * shape[1] * shape[2]), 64.0 * base_channels, path);
}

/// Loads a prior checkpoint (on the CPU) before any work, which checks the file, its options and its
/// weights, and checks that it was trained on the data set's images; every failure is reported at the
/// option "prior".
inline prior::ScorePrior check_prior(const std::string& path, const DatasetVariant& data) {
  try {
    auto p = prior::load_prior(path);
    const auto& network = p.net()->options();
    check_network_fits(network.image_channels, network.image_size, data, path + ":network");
    return p;
  } catch (const Error& e) {
    detail::fail("prior: ", e.what());
  }
}

}  // namespace davi::runner
