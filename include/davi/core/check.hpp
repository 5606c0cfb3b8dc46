#pragma once
// DAVI_CHECK: precondition checks that throw davi::Error with a one-line message naming what is wrong.
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>
#include <cstdint>

namespace davi {

/// Every error davi raises on bad input. The message is one line, meant for the user.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// An error about one option of a policy, raised where only the policy knows the bound (t_max within the
/// schedule's steps). `key` is the option's name; whoever built the policy from JSON puts its path in
/// front (runner::construct: "method.divergence.t_max: ...").
struct OptionError : Error {
  OptionError(std::string key, const std::string& message)
      : Error(key + ": " + message), key(std::move(key)), message(message) {}
  std::string key;
  std::string message;
};

namespace detail {
template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  throw Error(concat(parts...));
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

/// DAVI_CHECK_OPTION(cond, "t_max", "expected ...") throws davi::OptionError for the option "t_max".
#define DAVI_CHECK_OPTION(cond, key, ...)                                                   \
  do {                                                                                      \
    if (!(cond)) throw ::davi::OptionError(key, ::davi::detail::concat(__VA_ARGS__)); \
  } while (false)
