#pragma once
// 64-bit FNV-1a: the stable, platform-independent hash behind run ids and data-set split rules (std::hash
// may differ between library versions, and an id must not).
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace davi {

inline constexpr std::uint64_t kFnv1aOffset = 1469598103934665603ULL;

/// FNV-1a of `text`, continuing from `h` (chain calls to hash several strings).
inline std::uint64_t fnv1a(std::string_view text, std::uint64_t h = kFnv1aOffset) {
  for (const unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

/// 16 hex digits.
inline std::string hex64(std::uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

/// 64-bit FNV-1a of a string, as 16 hex digits.
inline std::string fnv1a_hex(std::string_view text) { return hex64(fnv1a(text)); }

}  // namespace davi
