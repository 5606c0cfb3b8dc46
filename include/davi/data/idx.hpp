#pragma once
// Reader for IDX files (the MNIST container format), plain or gzip-compressed.
#include <ATen/ATen.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "davi/core/check.hpp"

namespace davi::data {

/// Reads an unsigned-byte IDX file (magic 0x00000801 labels, 0x00000803 images) into a uint8 tensor
/// whose shape is the file's dimensions. Gzip is detected by zlib, so .gz and raw files both work.
inline at::Tensor read_idx_u8(const std::filesystem::path& path) {
  DAVI_CHECK(std::filesystem::exists(path), path.string(), ": file not found");
  gzFile file = gzopen(path.c_str(), "rb");
  DAVI_CHECK(file != nullptr, path.string(), ": cannot open");
  struct Closer {
    gzFile f;
    ~Closer() { gzclose(f); }
  } closer{file};

  const auto read_exact = [&](void* dst, std::size_t n, const char* what) {
    auto* out = static_cast<unsigned char*>(dst);
    while (n > 0) {
      const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n, 1u << 30));
      const int got = gzread(file, out, chunk);
      DAVI_CHECK(got > 0, path.string(), ": truncated IDX file while reading ", what);
      out += got;
      n -= static_cast<std::size_t>(got);
    }
  };
  const auto read_be32 = [&](const char* what) {
    unsigned char b[4];
    read_exact(b, 4, what);
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
  };

  const std::uint32_t magic = read_be32("the header");
  DAVI_CHECK((magic >> 8) == 0x08, path.string(), ": not an unsigned-byte IDX file (magic 0x", std::hex, magic,
             ")");
  const int ndim = static_cast<int>(magic & 0xff);
  DAVI_CHECK(ndim >= 1 && ndim <= 4, path.string(), ": unsupported IDX rank ", ndim);
  std::vector<std::int64_t> dims(ndim);
  for (auto& d : dims) d = read_be32("the dimensions");
  at::Tensor out = at::empty(dims, at::kByte);
  read_exact(out.data_ptr<std::uint8_t>(), static_cast<std::size_t>(out.numel()), "the data");
  return out;
}

}  // namespace davi::data
