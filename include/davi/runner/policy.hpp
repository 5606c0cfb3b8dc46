#pragma once
// A policy in an experiment file: written either as its name alone, "ikl", which takes every default, or as
// an object holding its name and any options beside it: {"name": "ikl", "t_max": 400}. Policy<Types> is the
// option field that holds one policy of a kind (Types: the kind's type list in runner/registry.hpp);
// construct() builds it once what it needs (the schedule, the image shape) is known.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <tuple>
#include <variant>

#include "davi/core/check.hpp"
#include "davi/core/options.hpp"

namespace davi::runner {

/// Calls f.template operator()<T>() for each T in the tuple type list.
template <class Types, class F>
void for_each_type(F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (f.template operator()<std::tuple_element_t<I, Types>>(), ...);
  }(std::make_index_sequence<std::tuple_size_v<Types>>{});
}

/// The names of a kind's policies, in registry order.
template <class Types>
std::vector<std::string> policy_name_list() {
  std::vector<std::string> names;
  for_each_type<Types>([&]<class T>() { names.emplace_back(T::name); });
  return names;
}

/// "kl, ikl": the names for messages.
template <class Types>
std::string policy_names() {
  return Constraint::join(policy_name_list<Types>());
}

/// A policy chosen by name, with its options, before it is constructed (constructing a divergence or a
/// bridge needs the schedule, an operator the image shape).
template <class T>
struct Choice {
  using Type = T;
  typename T::Options options;
};

template <class T>
using Unwrapped = T;

/// std::variant<Wrap<T>...> over a type list.
template <class Types, template <class> class Wrap = Unwrapped>
struct VariantOf;
template <class... T, template <class> class Wrap>
struct VariantOf<std::tuple<T...>, Wrap> {
  using type = std::variant<Wrap<T>...>;
};
/// One policy of a kind chosen by name, with its options: std::variant<Choice<T>...>.
template <class Types>
using ChoiceVariant = typename VariantOf<Types, Choice>::type;
/// One constructed policy of a kind: std::variant<T...>.
template <class Types>
using PolicyVariant = typename VariantOf<Types>::type;

/// Reads a policy spec at `path`: "name" or {"name": "...", option: value, ...}. Unknown names and
/// options stop with the JSON path and what was expected.
template <class Types>
ChoiceVariant<Types> choose(const nlohmann::json& spec, const std::string& path) {
  DAVI_CHECK(spec.is_string() || spec.is_object(), path, ": expected a name (one of: ", policy_names<Types>(),
             ") or an object {\"name\": ..., options...}, got ", spec.type_name(), " ", echo(spec.dump()));
  if (spec.is_object()) {
    DAVI_CHECK(spec.contains("name") && spec["name"].is_string(), path, ".name: expected a string naming one of: ",
               policy_names<Types>());
  }
  const auto name = spec.is_string() ? spec.get<std::string>() : spec["name"].get<std::string>();
  nlohmann::json options = spec.is_object() ? spec : nlohmann::json::object();
  options.erase("name");
  std::optional<ChoiceVariant<Types>> result;
  for_each_type<Types>([&]<class T>() {
    if (!result && name == T::name)
      result.emplace(Choice<T>{options_from_json<typename T::Options>(options, path)});
  });
  DAVI_CHECK(result.has_value(), path, ": unknown \"", echo(name), "\"; expected one of: ", policy_names<Types>());
  return std::move(*result);
}

/// An option field that holds a policy of one kind: reads strictly, writes back in full
/// ({"name": ..., every option with its value}), so a resolved config says exactly what ran.
template <class Types>
class Policy {
 public:
  explicit Policy(std::string_view name) : choice_(choose<Types>(nlohmann::json(std::string(name)), "")) {}

  void read(const nlohmann::json& j, const std::string& path) { choice_ = choose<Types>(j, path); }
  nlohmann::json to_json() const {
    return std::visit(
        [](const auto& c) {
          nlohmann::json j = {{"name", std::string(std::decay_t<decltype(c)>::Type::name)}};
          j.update(options_to_json(c.options));
          return j;
        },
        choice_);
  }
  std::string name() const {
    return std::visit([](const auto& c) { return std::string(std::decay_t<decltype(c)>::Type::name); }, choice_);
  }
  const ChoiceVariant<Types>& choice() const { return choice_; }

 private:
  ChoiceVariant<Types> choice_;
};

/// Constructs the chosen policy from its options and `args` (the schedule, the image shape, ...). A check
/// the policy makes in its constructor is reported at `path`, the policy's place in the JSON
/// ("method.divergence.t_max: expected a value in [1, 1000], got 2000").
template <class Types, class... Args>
PolicyVariant<Types> construct(const ChoiceVariant<Types>& choice, const std::string& path, const Args&... args) {
  try {
    return std::visit(
        [&](const auto& c) -> PolicyVariant<Types> {
          return typename std::decay_t<decltype(c)>::Type(c.options, args...);
        },
        choice);
  } catch (const OptionError& e) {
    detail::fail(path, ".", e.key, ": ", e.message);
  } catch (const Error& e) {
    detail::fail(path, ": ", e.what());
  }
}

template <class Types, class... Args>
PolicyVariant<Types> construct(const Policy<Types>& policy, const std::string& path, const Args&... args) {
  return construct<Types>(policy.choice(), path, args...);
}

/// {"name": {"key": {"default": ..., "description": ...}}} for every policy of a kind.
template <class Types>
nlohmann::json list_policies() {
  nlohmann::json out = nlohmann::json::object();
  for_each_type<Types>([&]<class T>() { out[std::string(T::name)] = options_documentation<typename T::Options>(); });
  return out;
}

}  // namespace davi::runner
