#pragma once
// The runner's registry: the one place that maps JSON names to policy types.
// Adding a policy = one new file + one entry in the matching type list below.
#include <nlohmann/json.hpp>

#include <string>
#include <tuple>

#include <optional>
#include <variant>

#include "davi/bridges/bridges.hpp"
#include "davi/core/options.hpp"
#include "davi/objectives/objectives.hpp"
#include "davi/operators/operators.hpp"
#include "davi/schedules/schedules.hpp"

namespace davi::runner {

using ScheduleTypes = std::tuple<schedules::Linear, schedules::SqrtLinear, schedules::Cosine>;
using OperatorTypes = std::tuple<operators::Identity, operators::GaussianBlur, operators::SuperResolution,
                                 operators::BoxInpainting, operators::RandomInpainting, operators::Colorization>;
using DivergenceTypes = std::tuple<objectives::Ikl, objectives::Kl>;
using BridgeTypes = std::tuple<bridges::Ppb, bridges::None>;

/// A policy chosen by name, with its options, before it is constructed (constructing a divergence or a
/// bridge needs the schedule, an operator the image shape).
template <class T>
struct Choice {
  using Type = T;
  typename T::Options options;
};

template <class Types>
struct ChoiceOf;
template <class... T>
struct ChoiceOf<std::tuple<T...>> {
  using type = std::variant<Choice<T>...>;
};
/// std::variant<Choice<T>...> over a type list.
template <class Types>
using ChoiceVariant = typename ChoiceOf<Types>::type;

/// Calls f.template operator()<T>() for each T in the tuple type list.
template <class Types, class F>
void for_each_type(F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (f.template operator()<std::tuple_element_t<I, Types>>(), ...);
  }(std::make_index_sequence<std::tuple_size_v<Types>>{});
}

template <class Types>
std::string policy_names() {
  std::string names;
  for_each_type<Types>([&]<class T>() { names += (names.empty() ? "" : ", ") + std::string(T::name); });
  return names;
}

/// Reads {"name": ..., "options": {...}} at `path`, checking the name against the type list.
/// Calls make.template operator()<T>(options) for the named T and returns its result.
template <class Types, class Result, class Make>
Result make_policy(const nlohmann::json& spec, const std::string& path, Make&& make) {
  DAVI_CHECK(spec.is_object(), path, ": expected an object {\"name\": ..., \"options\": {...}}, got ",
             spec.type_name());
  for (const auto& [key, value] : spec.items()) {
    DAVI_CHECK(key == "name" || key == "options", path, ".", key, ": unknown key; expected one of: name, options");
  }
  DAVI_CHECK(spec.contains("name") && spec["name"].is_string(), path, ".name: expected a string naming one of: ",
             policy_names<Types>());
  const auto name = spec["name"].get<std::string>();
  const nlohmann::json options = spec.value("options", nlohmann::json::object());
  std::optional<Result> result;
  for_each_type<Types>([&]<class T>() {
    if (!result && name == T::name)
      result.emplace(make.template operator()<T>(
          options_from_json<typename T::Options>(options, path + ".options")));
  });
  DAVI_CHECK(result.has_value(), path, ".name: unknown \"", name, "\"; expected one of: ", policy_names<Types>());
  return std::move(*result);
}

inline schedules::DiscreteSchedule make_schedule(const nlohmann::json& spec, const std::string& path) {
  return make_policy<ScheduleTypes, schedules::DiscreteSchedule>(
      spec, path, []<class T>(const typename T::Options& o) -> schedules::DiscreteSchedule { return T(o); });
}

/// Reads {"name": ..., "options": {...}} into the matching Choice.
template <class Types>
ChoiceVariant<Types> choose(const nlohmann::json& spec, const std::string& path) {
  return make_policy<Types, ChoiceVariant<Types>>(spec, path, []<class T>(const typename T::Options& o) {
    return ChoiceVariant<Types>(Choice<T>{o});
  });
}

/// {"name": {"key": {"default": ..., "description": ...}}} for every policy of a kind.
template <class Types>
nlohmann::json list_policies() {
  nlohmann::json out = nlohmann::json::object();
  for_each_type<Types>([&]<class T>() { out[std::string(T::name)] = options_documentation<typename T::Options>(); });
  return out;
}

}  // namespace davi::runner
