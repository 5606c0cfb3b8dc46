#pragma once
#include <cstdint>
#include <vector>

namespace davi {

/// An image or measurement shape without the batch dimension, e.g. {1, 28, 28} (C x H x W).
using Shape = std::vector<std::int64_t>;

}  // namespace davi
