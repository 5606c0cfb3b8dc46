#pragma once
// Reading LibTorch archives (checkpoints) onto a chosen device. An archive remembers the device each
// tensor was saved from; without a target device a checkpoint written on a GPU would not load on a CPU
// machine, and loading a CPU archive into a CUDA module would move its parameters back to the CPU.
#include <torch/nn/module.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "davi/core/atomic_file.hpp"
#include "davi/core/check.hpp"

namespace davi {

/// Loads `path` into `archive` with every tensor placed on `device`; `what` names the file's kind in
/// the one-line error ("not a readable <what>").
inline void read_archive(torch::serialize::InputArchive& archive, const std::filesystem::path& path,
                         const c10::Device& device, std::string_view what) {
  try {
    archive.load_from(path.string(), device);
  } catch (const std::exception&) {
    detail::fail(path.string(), ": not a readable ", what);
  }
}

// ---- sealed checkpoints -----------------------------------------------------------------------------
// A checkpoint written by write_sealed carries, before the LibTorch archive's bytes, a header: the magic
// "DAVISEAL", the format, a tag (the run id) and the payload's length and CRC-32, all little-endian. So a
// flipped byte, a truncated file, another kind of file or another run's state is refused by name instead
// of loaded (LibTorch's own reader loads damaged tensor data silently).
inline constexpr std::uint32_t kSealFormat = 1;

namespace detail {
inline constexpr char kSealMagic[8] = {'D', 'A', 'V', 'I', 'S', 'E', 'A', 'L'};

inline std::uint32_t crc32_of(const std::string& bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  for (std::size_t at = 0; at < bytes.size(); at += 1u << 30) {
    const auto chunk = static_cast<uInt>(std::min<std::size_t>(bytes.size() - at, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + at), chunk);
  }
  return static_cast<std::uint32_t>(crc);
}

inline void put_le(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}
inline std::uint64_t get_le(const std::string& in, std::size_t at, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value |= std::uint64_t{static_cast<unsigned char>(in[at + i])} << (8 * i);
  return value;
}
}  // namespace detail

/// Writes `archive` to `path` atomically and sealed with `tag`.
inline void write_sealed(torch::serialize::OutputArchive& archive, const std::filesystem::path& path,
                         const std::string& tag) {
  std::ostringstream payload_stream;
  archive.save_to(payload_stream);
  const std::string payload = payload_stream.str();
  std::string header(detail::kSealMagic, sizeof detail::kSealMagic);
  detail::put_le(header, kSealFormat, 4);
  detail::put_le(header, tag.size(), 4);
  header += tag;
  detail::put_le(header, payload.size(), 8);
  detail::put_le(header, detail::crc32_of(payload), 4);
  write_atomically(path, [&](const std::filesystem::path& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    DAVI_CHECK(out.good(), tmp.string(), ": cannot open for writing");
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(payload.data(), static_cast<std::streamsize>(payload.size()));
    out.close();
    DAVI_CHECK(out.good(), tmp.string(), ": write failed (is the disk full?)");
  });
}

/// Reads a file written by write_sealed into `archive`, every tensor on `device`. Refuses, naming the file
/// and `what` it should be, one that is damaged, of another format or sealed with another tag.
inline void read_sealed(torch::serialize::InputArchive& archive, const std::filesystem::path& path,
                        const c10::Device& device, const std::string& tag, std::string_view what) {
  const auto refuse = [&](const auto&... why) { detail::fail(path.string(), ": ", why..., "; delete it to start over"); };
  std::error_code ec;
  DAVI_CHECK(std::filesystem::is_regular_file(path, ec), path.string(), ": not a regular file");
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 20 || std::memcmp(bytes.data(), detail::kSealMagic, 8) != 0)
    refuse("not a sealed davi ", what, " (written by another program or an older davi)");
  if (detail::get_le(bytes, 8, 4) != kSealFormat) refuse("a ", what, " of another format (", detail::get_le(bytes, 8, 4), ")");
  const auto tag_size = detail::get_le(bytes, 12, 4);
  if (bytes.size() < 16 + tag_size + 12) refuse("a truncated ", what);
  const std::string stored_tag = bytes.substr(16, tag_size);
  if (stored_tag != tag) refuse("the ", what, " of another run (", echo(stored_tag), ", not ", echo(tag), ")");
  const std::size_t at = 16 + tag_size;
  const auto length = detail::get_le(bytes, at, 8);
  const auto crc = static_cast<std::uint32_t>(detail::get_le(bytes, at + 8, 4));
  const std::string payload = bytes.substr(at + 12);
  if (payload.size() != length) refuse("a truncated ", what, " (", payload.size(), " of ", length, " bytes)");
  if (detail::crc32_of(payload) != crc) refuse("a damaged ", what, " (its CRC-32 does not match)");
  try {
    archive.load_from(payload.data(), payload.size(), device);
  } catch (const std::exception& e) {
    refuse("not a readable ", what, " (", first_line(e.what()), ")");
  }
}

/// Loads a module's weights from `archive` and checks that every parameter and buffer kept the shape the
/// module was built with: LibTorch's load replaces a tensor by the stored one whatever its shape, so
/// weights of another architecture would otherwise load silently and fail (or compute nonsense) later.
/// Errors name `path` and the first tensor that does not fit.
inline void load_weights(torch::nn::Module& module, torch::serialize::InputArchive& archive,
                         const std::filesystem::path& path) {
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> built;
  for (const auto& item : module.named_parameters()) built.emplace_back(item.key(), item.value().sizes().vec());
  for (const auto& item : module.named_buffers()) built.emplace_back(item.key(), item.value().sizes().vec());
  try {
    module.load(archive);
  } catch (const std::exception& e) {  // a tensor missing from the file
    detail::fail(path.string(), ": its weights do not fit its network options (", first_line(e.what()), ")");
  }
  std::map<std::string, std::vector<std::int64_t>> loaded;
  for (const auto& item : module.named_parameters()) loaded[item.key()] = item.value().sizes().vec();
  for (const auto& item : module.named_buffers()) loaded[item.key()] = item.value().sizes().vec();
  for (const auto& [name, shape] : built) {
    DAVI_CHECK(loaded[name] == shape, path.string(), ": its weights do not fit its network options (", name,
               " is ", shape_string(loaded[name]), " in the file, ", shape_string(shape), " for the options)");
  }
}

/// Writes the state of a part of a checkpoint (a module or an optimiser: anything with save(OutputArchive&))
/// under `key`: every trainer's save() is made of these.
template <class Part>
void write_part(torch::serialize::OutputArchive& archive, const std::string& key, Part& part) {
  torch::serialize::OutputArchive sub;
  part.save(sub);
  archive.write(key, sub);
}

/// Restores what write_part wrote under `key`; false (and `part` untouched) when the archive has no `key`.
template <class Part>
bool read_part(torch::serialize::InputArchive& archive, const std::string& key, Part& part) {
  torch::serialize::InputArchive sub;
  if (!archive.try_read(key, sub)) return false;
  part.load(sub);
  return true;
}

}  // namespace davi
