#pragma once
// Atomic file writes: write a sibling temporary file, then rename over the target. A kill at any point
// leaves either the old file or the new one, never a truncated one.
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

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
  } catch (const Error&) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  } catch (const std::exception& e) {  // LibTorch's writer, the file system: one line, temporary removed
    std::error_code ignored;
    fs::remove(tmp, ignored);
    detail::fail(path.string(), ": cannot write (", first_line(e.what()), ")");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  DAVI_CHECK(!ec, path.string(), ": cannot replace file: ", ec.message());
}

/// Removes the temporaries write_atomically left in `dir` when a process was killed while writing
/// ("<name>.tmp.<pid>" whose process no longer exists); returns how many.
inline int remove_stale_temporaries(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  int removed = 0;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const auto mark = name.rfind(".tmp.");
    if (mark == std::string::npos || mark + 5 >= name.size() ||
        name.find_first_not_of("0123456789", mark + 5) != std::string::npos)
      continue;
    const long pid = std::stol(name.substr(mark + 5, 9));
    if (pid == ::getpid() || (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM)) continue;  // alive
    std::error_code ignored;
    removed += fs::remove(it->path(), ignored) ? 1 : 0;
  }
  return removed;
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
