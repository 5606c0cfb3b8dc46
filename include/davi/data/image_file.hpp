#pragma once
// Reading PNG (libpng's simplified API) and JPEG (libjpeg) files into uint8 C x H x W tensors, converted to
// grayscale (C = 1) or RGB (C = 3) by the decoders. The format is told by the file's first bytes, not its
// name. Every failure is one line naming the file; images larger than kMaxImageSide are refused from
// their header, before any pixel memory is allocated.
#include <ATen/ATen.h>
#include <jpeglib.h>
#include <png.h>

#include <csetjmp>
#include <cstdint>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "davi/core/check.hpp"

namespace davi::data {

/// The largest width or height read (a 16384 x 16384 RGB image is 805 MB of pixels).
inline constexpr std::int64_t kMaxImageSide = 16384;

struct ImageSize {
  std::int64_t width = 0, height = 0;
};

namespace detail {
enum class ImageFormat { png, jpeg, unknown };

inline ImageFormat format_of(const std::vector<unsigned char>& bytes) {
  if (bytes.size() >= 8 && png_sig_cmp(bytes.data(), 0, 8) == 0) return ImageFormat::png;
  if (bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) return ImageFormat::jpeg;
  return ImageFormat::unknown;
}

/// The file's bytes, or its first `limit` bytes when limit > 0.
inline std::vector<unsigned char> read_bytes(const std::filesystem::path& path, std::size_t limit = 0) {
  std::error_code ec;
  DAVI_CHECK(std::filesystem::is_regular_file(path, ec), path.string(), ": not a regular file");
  const auto size = std::filesystem::file_size(path, ec);
  DAVI_CHECK(!ec, path.string(), ": cannot read its size (", ec.message(), ")");
  std::ifstream in(path, std::ios::binary);
  DAVI_CHECK(in.good(), path.string(), ": cannot open");
  std::vector<unsigned char> bytes(limit > 0 ? std::min<std::uintmax_t>(size, limit) : size);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  DAVI_CHECK(in.gcount() == static_cast<std::streamsize>(bytes.size()), path.string(), ": read failed");
  return bytes;
}

// libjpeg reports errors through a callback that must not return; it jumps back to the setjmp in
// jpeg_decode, a function holding only trivially destructible objects so that the jump skips no destructor.
struct JpegErrors {
  jpeg_error_mgr manager;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};
extern "C" inline void jpeg_error_jump(j_common_ptr info) {
  auto* errors = reinterpret_cast<JpegErrors*>(info->err);
  (*info->err->format_message)(info, errors->message);
  std::longjmp(errors->jump, 1);
}
extern "C" inline void jpeg_warning_ignore(j_common_ptr, int) {}

/// Reads the header (pixels == nullptr) or decodes into `pixels` (height x width x channels bytes).
/// Returns false with `errors.message` set when libjpeg fails.
inline bool jpeg_decode(const unsigned char* data, std::size_t size, int channels, unsigned char* pixels,
                        ImageSize& out, JpegErrors& errors) {
  jpeg_decompress_struct info;
  info.err = jpeg_std_error(&errors.manager);
  errors.manager.error_exit = jpeg_error_jump;
  errors.manager.emit_message = jpeg_warning_ignore;
  if (setjmp(errors.jump)) {
    jpeg_destroy_decompress(&info);
    return false;
  }
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, data, static_cast<unsigned long>(size));
  jpeg_read_header(&info, TRUE);
  out = {static_cast<std::int64_t>(info.image_width), static_cast<std::int64_t>(info.image_height)};
  if (pixels != nullptr) {
    info.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&info);
    const std::size_t row_bytes = static_cast<std::size_t>(info.output_width) * static_cast<std::size_t>(channels);
    while (info.output_scanline < info.output_height) {
      JSAMPROW row = pixels + static_cast<std::size_t>(info.output_scanline) * row_bytes;
      jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
  }
  jpeg_destroy_decompress(&info);
  return true;
}

/// Decodes the file's bytes; `channels` == 0 reads only the size. Returns {size, pixels (H x W x C) or undefined}.
inline std::pair<ImageSize, at::Tensor> decode(const std::filesystem::path& path,
                                               const std::vector<unsigned char>& bytes, int channels) {
  const auto check_size = [&](ImageSize s) {
    DAVI_CHECK(s.width >= 1 && s.height >= 1 && s.width <= kMaxImageSide && s.height <= kMaxImageSide,
               path.string(), ": ", s.width, "x", s.height, " pixels; expected each side in [1, ", kMaxImageSide, "]");
    return s;
  };
  switch (format_of(bytes)) {
    case ImageFormat::png: {
      png_image image{};
      image.version = PNG_IMAGE_VERSION;
      DAVI_CHECK(png_image_begin_read_from_memory(&image, bytes.data(), bytes.size()) != 0, path.string(),
                 ": not a readable PNG (", image.message, ")");
      ImageSize size{static_cast<std::int64_t>(image.width), static_cast<std::int64_t>(image.height)};
      try {
        check_size(size);
      } catch (...) {
        png_image_free(&image);
        throw;
      }
      if (channels == 0) {
        png_image_free(&image);
        return {size, at::Tensor()};
      }
      image.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
      // Transparent pixels are composited onto black: the zeroed buffer.
      at::Tensor pixels = at::zeros({size.height, size.width, channels}, at::kByte);
      DAVI_CHECK(png_image_finish_read(&image, nullptr, pixels.data_ptr<std::uint8_t>(), 0, nullptr) != 0,
                 path.string(), ": damaged PNG (", image.message, ")");
      return {size, pixels};
    }
    case ImageFormat::jpeg: {
      JpegErrors errors{};
      ImageSize size;
      DAVI_CHECK(jpeg_decode(bytes.data(), bytes.size(), channels, nullptr, size, errors), path.string(),
                 ": not a readable JPEG (", errors.message, ")");
      check_size(size);
      if (channels == 0) return {size, at::Tensor()};
      at::Tensor pixels = at::zeros({size.height, size.width, channels}, at::kByte);
      DAVI_CHECK(jpeg_decode(bytes.data(), bytes.size(), channels, pixels.data_ptr<std::uint8_t>(), size, errors),
                 path.string(), ": damaged JPEG (", errors.message, ")");
      return {size, pixels};
    }
    case ImageFormat::unknown:
      break;
  }
  ::davi::detail::fail(path.string(), ": neither PNG nor JPEG (by its first bytes)");
}
}  // namespace detail

/// The width and height from a PNG or JPEG file's header.
inline ImageSize read_image_size(const std::filesystem::path& path) {
  // The header is at the start: 64 KiB hold it unless a JPEG carries a large metadata block first.
  constexpr std::size_t kHead = 64 * 1024;
  const auto head = detail::read_bytes(path, kHead);
  if (head.size() < kHead) return detail::decode(path, head, 0).first;
  try {
    return detail::decode(path, head, 0).first;
  } catch (const Error&) {
    return detail::decode(path, detail::read_bytes(path), 0).first;
  }
}

/// A PNG or JPEG file as a uint8 tensor C x H x W, converted to `channels` (1 grayscale, 3 RGB).
inline at::Tensor read_image(const std::filesystem::path& path, int channels) {
  DAVI_CHECK(channels == 1 || channels == 3, "read_image: channels must be 1 or 3, got ", channels);
  return detail::decode(path, detail::read_bytes(path), channels).second.permute({2, 0, 1}).contiguous();
}

}  // namespace davi::data
