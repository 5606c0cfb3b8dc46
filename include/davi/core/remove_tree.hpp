#pragma once
// Removing a folder and everything in it, with libc's nftw instead of std::filesystem::remove_all: PyTorch's
// wheels carry their own static copy of libstdc++'s filesystem code and export it, so a program linked with
// them can bind remove_all to that copy, and torch 2.11's (libtorch.so, cu130 wheel) calls through a null
// pointer: a segfault at the first removal (seen on a GPU machine, tools/cuda_smoke).
#include <ftw.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>

namespace davi {

namespace detail {
inline int remove_entry(const char* path, const struct stat*, int, struct FTW*) { return std::remove(path); }
}  // namespace detail

/// Removes `path` and, if it is a folder, everything under it, children first; symbolic links are removed, never
/// followed. True when nothing is left at `path` (also when nothing was there); false if an entry could not be
/// removed (what could be removed is gone).
inline bool remove_tree(const std::filesystem::path& path) noexcept {
  constexpr int kOpenFolders = 16;  // nftw's limit on descriptors held open at once
  if (::nftw(path.c_str(), detail::remove_entry, kOpenFolders, FTW_DEPTH | FTW_PHYS) == 0) return true;
  struct stat entry;
  return ::lstat(path.c_str(), &entry) != 0 && errno == ENOENT;
}

}  // namespace davi
