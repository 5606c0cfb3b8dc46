#pragma once
// DAVI_CHECK: precondition checks that throw davi::Error with a one-line message naming what is wrong.
#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
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

/// User text (a key, a value, a file name) made safe for a one-line message: control characters escaped
/// (\n, \x1b, ...), and cut after `max` bytes, with how long it was ("...(1048576 bytes)").
inline std::string echo(std::string_view text, std::size_t max = 80) {
  std::string out;
  const std::size_t shown = std::min(text.size(), max);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (shown < text.size()) {
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();  // whole UTF-8
    if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
    out += "...(" + std::to_string(text.size()) + " bytes)";
  }
  return out;
}

/// A JSON key as a component of a path in messages: echo() with a shorter cut.
inline std::string echo_key(std::string_view key) { return echo(key, 48); }

/// The first line of a library's message (LibTorch appends a backtrace), echoed.
inline std::string first_line(std::string_view text) { return echo(text.substr(0, text.find('\n')), 200); }

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
