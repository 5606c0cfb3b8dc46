#pragma once
// What a data set's load() returns, and the pixel convention of every davi image.
#include <ATen/ATen.h>

namespace davi::data {

struct LabelledImages {
  at::Tensor images;  // N x C x H x W, float32 in [-1, 1]
  at::Tensor labels;  // N, int64 class index
};

/// Maps uint8 pixels to float32 in [-1, 1] (x = 2 * p / 255 - 1), the convention of every davi image.
inline at::Tensor bytes_to_unit_range(const at::Tensor& bytes) { return bytes.to(at::kFloat) / 127.5 - 1.0; }

}  // namespace davi::data
