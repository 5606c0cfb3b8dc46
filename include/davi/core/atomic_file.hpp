#pragma once
// Atomic file writes: write a sibling temporary file, then rename over the target. A kill at any point
// leaves either the old file or the new one, never a truncated one.
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <unistd.h>

#include "davi/core/check.hpp"

namespace davi {

/// Calls write(tmp_path), then renames tmp_path to path. On failure the temporary is removed.
inline void write_atomically(const std::filesystem::path& path,
                             const std::function<void(const std::filesystem::path&)>& write) {
  namespace fs = std::filesystem;
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  const fs::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
  try {
    write(tmp);
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  DAVI_CHECK(!ec, path.string(), ": cannot replace file: ", ec.message());
}

/// Writes text (JSON, CSV, Markdown) atomically.
inline void write_text_atomically(const std::filesystem::path& path, const std::string& text) {
  write_atomically(path, [&](const std::filesystem::path& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    DAVI_CHECK(out.good(), tmp.string(), ": cannot open for writing");
    out << text;
    out.close();
    DAVI_CHECK(out.good(), tmp.string(), ": write failed");
  });
}

}  // namespace davi
