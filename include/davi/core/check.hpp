#pragma once
// DAVI_CHECK: precondition checks that throw davi::Error with a one-line message naming what is wrong.
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>
#include <cstdint>

namespace davi {

/// Every error davi raises on bad input. The message is one line, meant for the user.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {
template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  throw Error(out.str());
}
}  // namespace detail

/// Formats a tensor shape as [2, 1, 28, 28] for error messages.
template <class Sizes>
std::string shape_string(const Sizes& sizes) {
  std::ostringstream out;
  out << '[';
  bool first = true;
  for (auto s : sizes) {
    out << (first ? "" : ", ") << s;
    first = false;
  }
  out << ']';
  return out.str();
}

}  // namespace davi

/// DAVI_CHECK(cond, "what", value, "more") throws davi::Error("what value more") when cond is false.
#define DAVI_CHECK(cond, ...)                 \
  do {                                        \
    if (!(cond)) ::davi::detail::fail(__VA_ARGS__); \
  } while (false)
