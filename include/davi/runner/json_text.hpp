#pragma once
// An experiment file's text to JSON, refusing in one line what the JSON library would accept silently or
// could not survive: files over kMaxExperimentBytes, nesting deeper than kMaxJsonDepth (the recursive
// parser would overflow the stack), a key given twice in one object (the library keeps the last), and
// numbers beyond double's range. Messages quote user text through echo() (control characters escaped,
// long text cut), so a hostile file cannot print several lines or drive the terminal.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "davi/core/check.hpp"

namespace davi::runner {

inline constexpr std::size_t kMaxExperimentBytes = 16u << 20;
inline constexpr int kMaxJsonDepth = 64;

namespace json_checks {
/// Throws when brackets outside strings nest deeper than kMaxJsonDepth; scans before the parser recurses.
inline void check_depth(std::string_view text) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth)
        ::davi::detail::fail("JSON nested deeper than ", kMaxJsonDepth, " levels at byte ", i + 1);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
}

/// The JSON path of each open container while parsing, to name a duplicated key.
class DuplicateKeyCheck {
 public:
  bool operator()(int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    switch (event) {
      case Event::object_start:
      case Event::array_start:
        frames_.push_back({event == Event::object_start, child_path(), {}, 0, ""});
        break;
      case Event::key: {
        auto& frame = frames_.back();
        frame.last_key = parsed.get<std::string>();
        if (!frame.keys.insert(frame.last_key).second)
          ::davi::detail::fail(join(frame.path, frame.last_key), ": key given twice in one object");
        break;
      }
      case Event::object_end:
      case Event::array_end:
        frames_.pop_back();
        element_done();
        break;
      case Event::value:
        element_done();
        break;
    }
    return true;
  }

 private:
  struct Frame {
    bool object;
    std::string path;
    std::set<std::string> keys;
    std::size_t index;     // arrays: elements so far
    std::string last_key;  // objects: the key whose value comes next
  };
  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? echo_key(key) : path + "." + echo_key(key);
  }
  std::string child_path() const {
    if (frames_.empty()) return "";
    const auto& parent = frames_.back();
    return parent.object ? join(parent.path, parent.last_key) : parent.path + "[" + std::to_string(parent.index) + "]";
  }
  void element_done() {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
  }
  std::vector<Frame> frames_;
};
}  // namespace json_checks

/// Parses an experiment file's text; every refusal is one line (the caller prefixes the file's name).
inline nlohmann::json parse_experiment_text(std::string_view text) {
  DAVI_CHECK(text.size() <= kMaxExperimentBytes, "experiment file of ", text.size(), " bytes; expected at most ",
             kMaxExperimentBytes);
  json_checks::check_depth(text);
  try {
    return nlohmann::json::parse(text.begin(), text.end(), json_checks::DuplicateKeyCheck{});
  } catch (const nlohmann::json::parse_error& e) {
    ::davi::detail::fail("invalid JSON at byte ", e.byte);
  } catch (const nlohmann::json::out_of_range& e) {  // 406: a number beyond double's range, 1e999
    const std::string what = e.what();
    const auto open = what.find('\''), close = what.rfind('\'');
    const auto number = open < close ? what.substr(open + 1, close - open - 1) : what;
    ::davi::detail::fail("number out of range: ", echo(number));
  } catch (const nlohmann::json::exception& e) {
    ::davi::detail::fail("invalid JSON: ", echo(e.what()));
  }
}

}  // namespace davi::runner
