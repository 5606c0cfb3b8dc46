#pragma once
// Fashion-MNIST as shipped by Debian's dataset-fashion-mnist: 28x28 grayscale, 60k train / 10k test.
// The folder is Debian's unless the environment variable DAVI_FASHION_MNIST names another one holding
// the same four IDX files (a machine without the package; the data do not change, so neither do run ids).
#include <ATen/ATen.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "davi/core/check.hpp"
#include "davi/core/options.hpp"
#include "davi/core/shape.hpp"
#include "davi/data/idx.hpp"
#include "davi/data/labelled_images.hpp"

namespace davi::data {

inline constexpr std::string_view kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

/// $DAVI_FASHION_MNIST when set and not empty, else Debian's folder.
inline std::filesystem::path fashion_mnist_dir() {
  const char* dir = std::getenv("DAVI_FASHION_MNIST");
  return dir && *dir ? std::filesystem::path(dir) : std::filesystem::path(kFashionMnistDir);
}

/// Loads a split ("train" or "test"); limit > 0 keeps the first `limit` images.
inline LabelledImages load_fashion_mnist(const std::string& split, std::int64_t limit = 0,
                                         const std::filesystem::path& dir = fashion_mnist_dir()) {
  DAVI_CHECK(split == "train" || split == "test", "fashion_mnist: unknown split \"", split,
             "\"; expected one of: train, test");
  const std::string prefix = split == "train" ? "train" : "t10k";
  const auto images_path = dir / (prefix + "-images-idx3-ubyte.gz");
  const auto labels_path = dir / (prefix + "-labels-idx1-ubyte.gz");
  for (const auto& p : {images_path, labels_path}) {
    DAVI_CHECK(std::filesystem::exists(p), p.string(),
               ": not found; install the Debian package dataset-fashion-mnist (tools/davi setup does) or set ",
               "DAVI_FASHION_MNIST to a folder holding the IDX files");
  }
  at::Tensor images = read_idx_u8(images_path);
  at::Tensor labels = read_idx_u8(labels_path);
  DAVI_CHECK(images.dim() == 3 && labels.dim() == 1 && images.size(0) == labels.size(0), images_path.string(),
             ": image/label files disagree: images ", shape_string(images.sizes()), ", labels ",
             shape_string(labels.sizes()));
  if (limit > 0 && limit < images.size(0)) {
    images = images.slice(0, 0, limit);
    labels = labels.slice(0, 0, limit);
  }
  return {bytes_to_unit_range(images).unsqueeze(1).contiguous(), labels.to(at::kLong)};
}

/// The data set "fashion_mnist" as a policy: what the runner sizes from the data (operators, network
/// inputs, the ranges of evaluation.images and data.validation_images) and how it loads a split.
struct FashionMnist {
  static constexpr std::string_view name = "fashion_mnist";
  using Options = NoOptions;

  explicit FashionMnist(const Options& = {}) {}

  Shape image_shape() const { return {1, 28, 28}; }
  /// Images in a split: "train" (60000) or "test" (10000).
  std::int64_t split_size(const std::string& split) const { return split == "train" ? 60000 : 10000; }
  std::int64_t classes() const { return 10; }
  /// What metrics.json records about the data.
  nlohmann::json describe() const { return {{"name", name}, {"train", 60000}, {"test", 10000}, {"classes", 10}}; }
  LabelledImages load(const std::string& split, std::int64_t limit = 0) const { return load_fashion_mnist(split, limit); }
};

}  // namespace davi::data
