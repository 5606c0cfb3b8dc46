#pragma once
// Image files written on the fly for the image_folder tests: PNG through davi's own encoder, JPEG
// through libjpeg, and a small folder data set of smooth random colour patterns, one subfolder per class.
#include <ATen/ATen.h>
#include <jpeglib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "davi/data/png.hpp"

namespace davi::testing {

inline void write_png(const std::filesystem::path& path, const at::Tensor& image_u8) {
  const auto bytes = data::encode_png(image_u8);
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
}

/// Writes a C x H x W uint8 tensor (C = 1 or 3) as a JPEG of the given quality.
inline void write_jpeg(const std::filesystem::path& path, const at::Tensor& image_u8, int quality = 95) {
  const at::Tensor hwc = image_u8.permute({1, 2, 0}).contiguous();
  std::FILE* file = std::fopen(path.c_str(), "wb");
  jpeg_compress_struct info;
  jpeg_error_mgr errors;
  info.err = jpeg_std_error(&errors);
  jpeg_create_compress(&info);
  jpeg_stdio_dest(&info, file);
  info.image_width = static_cast<JDIMENSION>(hwc.size(1));
  info.image_height = static_cast<JDIMENSION>(hwc.size(0));
  info.input_components = static_cast<int>(hwc.size(2));
  info.in_color_space = hwc.size(2) == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, quality, TRUE);
  jpeg_start_compress(&info, TRUE);
  const auto row_bytes = hwc.size(1) * hwc.size(2);
  while (info.next_scanline < info.image_height) {
    JSAMPROW row = hwc.data_ptr<std::uint8_t>() + info.next_scanline * row_bytes;
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  std::fclose(file);
}

/// A smooth random colour pattern (C x side x side, uint8) from `seed`: upsampled 4x4 noise.
inline at::Tensor pattern_image(std::int64_t seed, int channels, int side) {
  at::Generator gen = at::detail::createCPUGenerator(static_cast<std::uint64_t>(seed));
  const auto coarse = at::rand({1, channels, 4, 4}, gen);
  const auto fine = at::upsample_bilinear2d(coarse, {side, side}, false);
  return (fine[0] * 255).round().clamp(0, 255).to(at::kByte);
}

/// `per_class` images of side `side` in each of the folders class_a and class_b, every third a JPEG.
inline void write_image_folder(const std::filesystem::path& dir, int per_class, int side, int channels = 3) {
  int index = 0;
  for (const char* folder : {"class_a", "class_b"}) {
    std::filesystem::create_directories(dir / folder);
    for (int i = 0; i < per_class; ++i, ++index) {
      const auto image = pattern_image(index, channels, side);
      const auto stem = dir / folder / ("img_" + std::to_string(i));
      if (index % 3 == 2) write_jpeg(stem.string() + ".jpg", image);
      else write_png(stem.string() + ".png", image);
    }
  }
}

}  // namespace davi::testing
