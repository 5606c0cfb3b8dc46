#pragma once
// Options structs describe their fields once, through a visit() member:
//   template <class V> void visit(V&& v) { v("num_steps", num_steps, "number of diffusion steps T"); }
// From that one list davi reads them from JSON strictly (unknown keys and wrong types are errors that
// name the JSON path), writes them back, and prints them with their defaults.
#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "davi/core/check.hpp"

namespace davi {

template <class O>
concept VisitableOptions = requires(O& o) { o.visit([](const char*, auto&, const char*) {}); };

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
    fail(path, ": expected ", expected_type_name<T>(), ", got ", json_type_name(j), " ", j.dump());
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
  options.visit([&](const char* key, auto& field, const char*) {
    known.insert(key);
    if (auto it = j.find(key); it != j.end()) detail::read_value(*it, field, path.empty() ? key : path + "." + key);
  });
  for (const auto& [key, value] : j.items()) {
    if (!known.count(key)) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      fail(path.empty() ? key : path + "." + key, ": unknown key; expected one of: ", list);
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
  options.visit([&](const char* key, auto& field, const char*) { j[key] = detail::field_json(field); });
  return j;
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
  defaults.visit([&]<class F>(const char* key, F& field, const char* what) {
    nlohmann::json entry = {{"key", key}, {"default", detail::field_json(field)}, {"description", what}};
    if constexpr (VisitableOptions<F> && !JsonField<F>) entry["fields"] = options_documentation<F>();
    doc.push_back(std::move(entry));
  });
  return doc;
}

}  // namespace davi
