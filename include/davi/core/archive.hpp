#pragma once
// Reading LibTorch archives (checkpoints) onto a chosen device. An archive remembers the device each
// tensor was saved from; without a target device a checkpoint written on a GPU would not load on a CPU
// machine, and loading a CPU archive into a CUDA module would move its parameters back to the CPU.
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <filesystem>
#include <string>
#include <string_view>

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
