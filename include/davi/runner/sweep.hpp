#pragma once
// Sweeps: an experiment file is a base config plus axes. "sweep" maps dotted keys to lists of values,
//   "sweep": {"method.divergence": ["kl", "ikl"], "method.bridge": ["ppb", "none"]}
// and a top-level "method" that is a list is one more axis (several methods on the same measurements).
// The runs are the cartesian product of the axes: the method list first (slowest), then the sweep keys
// in key order, the last varying fastest; a key inside the method ("method.bridge") applies on top of it.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "davi/core/check.hpp"

namespace davi::runner {

/// The most runs one experiment file may expand into.
inline constexpr std::size_t kMaxRuns = 10000;

struct SweepPoint {
  nlohmann::json config;      // the base config with this point's values set
  nlohmann::json assignment;  // {dotted key: value} of this point, {} without sweeps
};

/// Sets `value` at a dotted key ("method.bridge.h"), creating objects on the way. A policy written as
/// its name alone ("ikl") counts as {"name": "ikl"}, so its options can be swept.
inline void set_dotted(nlohmann::json& config, const std::string& key, const nlohmann::json& value,
                       const std::string& where) {
  nlohmann::json* node = &config;
  std::string prefix;
  std::size_t start = 0;
  while (true) {
    const auto dot = key.find('.', start);
    const std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    DAVI_CHECK(!part.empty(), where, ": empty component in the dotted key \"", echo_key(key), "\"");
    if (node->is_null()) *node = nlohmann::json::object();
    if (node->is_string()) *node = nlohmann::json{{"name", *node}};
    DAVI_CHECK(node->is_object(), where, ": ", prefix.empty() ? "(top level)" : prefix, " is ", node->type_name(),
               ", not an object, so \"", echo_key(key), "\" cannot be set");
    prefix += (prefix.empty() ? "" : ".") + echo_key(part);
    if (dot == std::string::npos) {
      (*node)[part] = value;
      return;
    }
    node = &(*node)[part];
    start = dot + 1;
  }
}

/// Expands the sweep axes of an experiment file into its runs.
inline std::vector<SweepPoint> expand_sweeps(nlohmann::json file) {
  DAVI_CHECK(file.is_object(), "(top level): expected an object, got ", file.type_name());
  std::vector<std::pair<std::string, nlohmann::json>> axes;
  if (auto it = file.find("method"); it != file.end() && it->is_array()) {
    DAVI_CHECK(!it->empty(), "method: expected a method or a non-empty list of methods, got []");
    axes.emplace_back("method", *it);
    file.erase(it);
  }
  if (auto it = file.find("sweep"); it != file.end()) {
    DAVI_CHECK(it->is_object(), "sweep: expected an object {\"dotted.key\": [values...]}, got ", it->type_name());
    for (const auto& [key, values] : it->items()) {
      DAVI_CHECK(values.is_array() && !values.empty(), "sweep.", echo_key(key),
                 ": expected a non-empty list of values, got ", echo(values.dump()));
      DAVI_CHECK(key != "method" || axes.empty(), "sweep.method: the methods are listed twice (here and in \"method\")");
      axes.emplace_back(key, values);
    }
    file.erase(it);
  }
  std::size_t runs = 1;  // counted before expanding: a sweep of a million runs must not take the memory first
  for (const auto& [key, values] : axes) {
    runs *= values.size();  // no overflow: each factor <= the file's size, and runs <= kMaxRuns before it
    DAVI_CHECK(runs <= kMaxRuns, "sweep: ", runs > kMaxRuns * 1000 ? "more than " + std::to_string(kMaxRuns * 1000)
                                                                    : std::to_string(runs),
               " runs; expected at most ", kMaxRuns, " (split the experiment into several files)");
  }
  std::vector<SweepPoint> points{{file, nlohmann::json::object()}};
  for (const auto& [key, values] : axes) {
    std::vector<SweepPoint> next;
    for (const auto& point : points) {
      for (const auto& value : values) {
        SweepPoint p = point;
        set_dotted(p.config, key, value, "sweep." + echo_key(key));
        p.assignment[key] = value;
        next.push_back(std::move(p));
      }
    }
    points = std::move(next);
  }
  return points;
}

}  // namespace davi::runner
