#pragma once
// Every method entry of the registry (runner/registry.hpp lists them by JSON name), checked against the
// MethodEntry contract (runner/method.hpp).
#include "davi/runner/davi_method.hpp"
#include "davi/runner/method.hpp"
#include "davi/runner/registry.hpp"
#include "davi/runner/supervised_method.hpp"

namespace davi::runner {

template <class M>
struct IsRegisteredMethod : std::bool_constant<MethodEntry<M>> {};
static_assert(all_of<MethodTypes, IsRegisteredMethod>, "a method of the registry breaks the MethodEntry contract");

}  // namespace davi::runner
