#pragma once
// Options structs describe their fields once, through a visit() member:
//   template <class V> void visit(V&& v) {
//     v("num_steps", num_steps, "number of diffusion steps T", at_least(2));
//   }
// From that one list davi reads them from JSON strictly (unknown keys, wrong types and values outside the
// declared constraint are errors that name the JSON path), checks options built in C++ (check_options),
// writes them back, and prints them with their defaults and constraints.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <optional>
#include <sstream>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "davi/core/check.hpp"

namespace davi {

/// A check declared beside an option in visit(): a numeric range (each end closed or open, either absent)
/// or a list of allowed names. For a list-valued option it applies to every element.
struct Constraint {
  std::optional<double> low, high;
  bool low_open = false, high_open = false;
  std::vector<std::string> choices;

  bool empty() const { return !low && !high && choices.empty(); }

  /// "in [1, 1000]", "in [0, 1)", ">= 1", "> 0", "one of: kl, ikl"; "" for no constraint.
  std::string describe() const {
    if (!choices.empty()) return "one of: " + join(choices);
    const auto number = [](double v) { return format(v); };
    if (low && high)
      return "in " + std::string(low_open ? "(" : "[") + number(*low) + ", " + number(*high) + (high_open ? ")" : "]");
    if (low) return std::string(low_open ? "> " : ">= ") + number(*low);
    if (high) return std::string(high_open ? "< " : "<= ") + number(*high);
    return "";
  }

  /// What is wrong with `value` ("expected a value in [1, 1000], got 2000"), or "" when it is allowed.
  template <class T>
  std::string violation(const T& value) const {
    if constexpr (std::is_same_v<T, std::string>) {
      if (choices.empty() || std::find(choices.begin(), choices.end(), value) != choices.end()) return "";
      return "unknown \"" + echo(value) + "\"; expected one of: " + join(choices);
    } else if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
      const auto v = static_cast<double>(value);
      const bool fits = !std::isnan(v) && (!low || (low_open ? v > *low : v >= *low)) &&
                        (!high || (high_open ? v < *high : v <= *high));
      return fits ? "" : "expected a value " + describe() + ", got " + format(value);
    } else {
      return "";
    }
  }

  /// 0.1 as "0.1", -1.0 as "-1", 1e-12 as "1e-12": short and exact enough for a message.
  template <class T>
  static std::string format(T value) {
    std::ostringstream out;
    out << std::setprecision(15) << value;
    return out.str();
  }

  static std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
  }
};

inline Constraint at_least(double v) {
  Constraint c;
  c.low = v;
  return c;
}
inline Constraint greater_than(double v) {
  auto c = at_least(v);
  c.low_open = true;
  return c;
}
inline Constraint in_range(double low, double high) {
  auto c = at_least(low);
  c.high = high;
  return c;
}
/// [low, high): for example a decay in [0, 1).
inline Constraint in_range_below(double low, double high) {
  auto c = in_range(low, high);
  c.high_open = true;
  return c;
}
/// (low, high): for example a fraction that must leave something on both sides.
inline Constraint in_open_range(double low, double high) {
  auto c = in_range_below(low, high);
  c.low_open = true;
  return c;
}
inline Constraint one_of(std::vector<std::string> choices) {
  Constraint c;
  c.choices = std::move(choices);
  return c;
}

/// The options of a policy that has none (a metric, a data set): still visitable, so --list shows the policy.
struct NoOptions {
  template <class V>
  void visit(V&&) {}
};

template <class O>
concept VisitableOptions = requires(O& o) { o.visit([](const char*, auto&, const char*, const Constraint& = {}) {}); };

/// A field that reads and writes its own JSON (for example a policy chosen by name, runner/registry.hpp).
template <class T>
concept JsonField = requires(T& t, const T& c, const nlohmann::json& j, const std::string& path) {
  t.read(j, path);
  { c.to_json() } -> std::same_as<nlohmann::json>;
};

namespace detail {
/// The JSON of one field's value.
template <class T>
nlohmann::json field_json(const T& field);
}  // namespace detail

namespace detail {
/// Throws "path: what is wrong" when `value` (each element of a list) breaks `c`.
template <class T>
void check_value(const T& value, const Constraint& c, const std::string& path) {
  if (c.empty()) return;
  if constexpr (requires { typename T::value_type; } && !std::is_same_v<T, std::string>) {
    for (std::size_t i = 0; i < value.size(); ++i) check_value(value[i], c, path + "[" + std::to_string(i) + "]");
  } else if (const auto wrong = c.violation(value); !wrong.empty()) {
    fail(path, ": ", wrong);
  }
}

inline const char* json_type_name(const nlohmann::json& j) { return j.type_name(); }

template <class T>
constexpr const char* expected_type_name() {
  if constexpr (std::is_same_v<T, bool>) return "a boolean";
  else if constexpr (std::is_integral_v<T>) return "an integer";
  else if constexpr (std::is_floating_point_v<T>) return "a number";
  else if constexpr (std::is_same_v<T, std::string>) return "a string";
  else return "a list";
}

template <VisitableOptions O>
void read_options(const nlohmann::json& j, O& options, const std::string& path);

template <class T>
void read_value(const nlohmann::json& j, T& out, const std::string& path) {
  const auto wrong = [&] {
    fail(path, ": expected ", expected_type_name<T>(), ", got ", json_type_name(j), " ", echo(j.dump()));
  };
  if constexpr (std::is_same_v<T, nlohmann::json>) {
    out = j;  // read later by the policy that owns it
  } else if constexpr (JsonField<T>) {
    out.read(j, path);
  } else if constexpr (VisitableOptions<T>) {
    detail::read_options(j, out, path);
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!j.is_boolean()) wrong();
    out = j.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (!j.is_number_integer()) wrong();
    // JSON integers are 64-bit; a value the field cannot hold would wrap silently (99999999999 -> a negative int).
    const bool fits = j.is_number_unsigned() ? std::in_range<T>(j.get<std::uint64_t>())
                                             : std::in_range<T>(j.get<std::int64_t>());
    if (!fits)
      fail(path, ": ", echo(j.dump()), " is out of range for this option (", std::numeric_limits<T>::min(), " to ",
           std::numeric_limits<T>::max(), ")");
    out = j.get<T>();
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!j.is_number()) wrong();
    out = j.get<T>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!j.is_string()) wrong();
    out = j.get<std::string>();
  } else {  // std::vector<U>
    if (!j.is_array()) wrong();
    out.clear();
    for (std::size_t i = 0; i < j.size(); ++i) {
      typename T::value_type element{};
      read_value(j[i], element, path + "[" + std::to_string(i) + "]");
      out.push_back(element);
    }
  }
}
}  // namespace detail

namespace detail {
template <VisitableOptions O>
void read_options(const nlohmann::json& j, O& options, const std::string& path) {
  DAVI_CHECK(j.is_object(), path, ": expected an object, got ", j.type_name());
  std::set<std::string> known;
  options.visit([&](const char* key, auto& field, const char*, const Constraint& c = {}) {
    known.insert(key);
    if (auto it = j.find(key); it != j.end()) {
      const auto where = path.empty() ? std::string(key) : path + "." + key;
      detail::read_value(*it, field, where);
      check_value(field, c, where);
    }
  });
  for (const auto& [key, value] : j.items()) {
    if (!known.count(key)) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      fail(path.empty() ? echo_key(key) : path + "." + echo_key(key), ": unknown key; expected one of: ", list);
    }
  }
}
}  // namespace detail

/// Reads `j` (an object) into `options`; `path` names `j` in error messages ("method.options").
template <VisitableOptions O>
void read_options(const nlohmann::json& j, O& options, const std::string& path) {
  detail::read_options(j, options, path);
}

template <VisitableOptions O>
O options_from_json(const nlohmann::json& j, const std::string& path) {
  O options;
  read_options(j, options, path);
  return options;
}

template <VisitableOptions O>
nlohmann::json options_to_json(O options) {
  nlohmann::json j = nlohmann::json::object();
  options.visit(
      [&](const char* key, auto& field, const char*, const Constraint& = {}) { j[key] = detail::field_json(field); });
  return j;
}

/// Checks every declared constraint of `options` (nested options included), for options built in C++;
/// `path` names them in the message ("ikl" gives "ikl.t_max: expected a value in [1, 1000], got 0").
template <VisitableOptions O>
void check_options(O options, std::string_view path) {
  options.visit([&]<class F>(const char* key, F& field, const char*, const Constraint& c = {}) {
    const auto where = path.empty() ? std::string(key) : std::string(path) + "." + key;
    if constexpr (VisitableOptions<F> && !JsonField<F>) check_options(field, where);
    else detail::check_value(field, c, where);
  });
}

namespace detail {
template <class T>
nlohmann::json field_json(const T& field) {
  if constexpr (JsonField<T>) return field.to_json();
  else if constexpr (VisitableOptions<T>) return options_to_json(field);
  else return field;
}
}  // namespace detail

/// One entry per field: name, default value, description (for `davi_run --list`); a nested options
/// struct also lists its own fields under "fields".
template <VisitableOptions O>
nlohmann::json options_documentation() {
  nlohmann::json doc = nlohmann::json::array();
  O defaults;
  defaults.visit([&]<class F>(const char* key, F& field, const char* what, const Constraint& c = {}) {
    nlohmann::json entry = {{"key", key}, {"default", detail::field_json(field)}, {"description", what}};
    if (!c.empty()) entry["constraint"] = c.describe();
    if constexpr (VisitableOptions<F> && !JsonField<F>) entry["fields"] = options_documentation<F>();
    doc.push_back(std::move(entry));
  });
  return doc;
}

}  // namespace davi
