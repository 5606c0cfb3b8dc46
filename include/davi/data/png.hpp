#pragma once
// PNG output (8-bit grayscale or RGB) with zlib, and image grids. Written atomically.
#include <ATen/ATen.h>
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "davi/core/atomic_file.hpp"
#include "davi/core/check.hpp"

namespace davi::data {

namespace detail {
inline void put_be32(std::vector<unsigned char>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<unsigned char>(v >> shift));
}
inline void put_chunk(std::vector<unsigned char>& out, const char* type, const std::vector<unsigned char>& data) {
  put_be32(out, static_cast<std::uint32_t>(data.size()));
  const std::size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  put_be32(out, static_cast<std::uint32_t>(crc32(0, out.data() + start, static_cast<uInt>(out.size() - start))));
}
}  // namespace detail

/// Encodes a C x H x W uint8 tensor (C = 1 or 3) as PNG bytes.
inline std::vector<unsigned char> encode_png(const at::Tensor& image_u8) {
  DAVI_CHECK(image_u8.dim() == 3 && (image_u8.size(0) == 1 || image_u8.size(0) == 3) &&
                 image_u8.scalar_type() == at::kByte,
             "encode_png: expected a uint8 tensor C x H x W with C in {1, 3}, got ",
             shape_string(image_u8.sizes()));
  const auto c = image_u8.size(0), h = image_u8.size(1), w = image_u8.size(2);
  const at::Tensor hwc = image_u8.permute({1, 2, 0}).contiguous().cpu();
  const std::uint8_t* pixels = hwc.data_ptr<std::uint8_t>();

  std::vector<unsigned char> raw;  // each row: filter byte 0, then the pixels
  raw.reserve(static_cast<std::size_t>(h * (1 + w * c)));
  for (std::int64_t row = 0; row < h; ++row) {
    raw.push_back(0);
    raw.insert(raw.end(), pixels + row * w * c, pixels + (row + 1) * w * c);
  }
  uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
  std::vector<unsigned char> packed(packed_size);
  DAVI_CHECK(compress2(packed.data(), &packed_size, raw.data(), static_cast<uLong>(raw.size()), 9) == Z_OK,
             "encode_png: zlib compression failed");
  packed.resize(packed_size);

  std::vector<unsigned char> header;
  detail::put_be32(header, static_cast<std::uint32_t>(w));
  detail::put_be32(header, static_cast<std::uint32_t>(h));
  header.insert(header.end(), {8, static_cast<unsigned char>(c == 1 ? 0 : 2), 0, 0, 0});

  std::vector<unsigned char> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  detail::put_chunk(png, "IHDR", header);
  detail::put_chunk(png, "IDAT", packed);
  detail::put_chunk(png, "IEND", {});
  return png;
}

/// Maps images in [-1, 1] to uint8 with rounding (values outside are clipped).
inline at::Tensor unit_range_to_bytes(const at::Tensor& images) {
  return ((images.detach().to(at::kCPU, at::kFloat).clamp(-1, 1) + 1) * 127.5).round().to(at::kByte);
}

/// Tiles N x C x H x W images in [-1, 1] into one image, `columns` per row, with a padding border.
inline at::Tensor make_grid(const at::Tensor& images, std::int64_t columns, std::int64_t padding = 2,
                            double pad_value = 1.0) {
  DAVI_CHECK(images.dim() == 4 && images.size(0) > 0, "make_grid: expected N x C x H x W images, got ",
             shape_string(images.sizes()));
  const auto n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  columns = std::max<std::int64_t>(1, std::min(columns, n));
  const auto rows = (n + columns - 1) / columns;
  at::Tensor grid = at::full({c, rows * (h + padding) + padding, columns * (w + padding) + padding}, pad_value,
                             images.options().device(at::kCPU).dtype(at::kFloat));
  const at::Tensor src = images.detach().to(at::kCPU, at::kFloat);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto top = (i / columns) * (h + padding) + padding, left = (i % columns) * (w + padding) + padding;
    grid.slice(1, top, top + h).slice(2, left, left + w).copy_(src[i]);
  }
  return grid;
}

/// Writes images in [-1, 1] as one PNG grid.
inline void save_image_grid(const std::filesystem::path& path, const at::Tensor& images, std::int64_t columns,
                            std::int64_t padding = 2) {
  const auto bytes = encode_png(unit_range_to_bytes(make_grid(images, columns, padding)));
  write_atomically(path, [&](const std::filesystem::path& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    DAVI_CHECK(out.good(), tmp.string(), ": write failed");
  });
}

}  // namespace davi::data
