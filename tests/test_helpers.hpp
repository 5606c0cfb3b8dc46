#pragma once
// Helpers shared by the test files.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "davi/core/check.hpp"
#include "davi/core/remove_tree.hpp"

namespace davi::testing {

/// max |a - b| / max(1, max |b|).
inline double relative_error(const at::Tensor& a, const at::Tensor& b) {
  const double scale = std::max(1.0, b.abs().max().item<double>());
  return (a - b).abs().max().item<double>() / scale;
}

/// A fresh folder under the build tree (or /tmp) for one test.
inline std::filesystem::path temp_dir(const std::string& name) {
  const char* root = std::getenv("DAVI_TEST_TMP");
  auto dir = std::filesystem::path(root ? root : "/tmp/davi_tests") / name;
  DAVI_CHECK(remove_tree(dir), "cannot empty the test folder ", dir.string());
  std::filesystem::create_directories(dir);
  return dir;
}

/// Sets environment variables for the scope of one test and restores them after.
class ScopedEnvironment {
 public:
  explicit ScopedEnvironment(const std::vector<std::pair<std::string, const char*>>& values) {
    for (const auto& [name, value] : values) {
      const char* old = std::getenv(name.c_str());
      saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
      if (value) ::setenv(name.c_str(), value, 1);
      else ::unsetenv(name.c_str());
    }
  }
  ScopedEnvironment(const char* name, const char* value)
      : ScopedEnvironment(std::vector<std::pair<std::string, const char*>>{{name, value}}) {}
  ~ScopedEnvironment() {
    for (const auto& [name, value] : saved_) {
      if (value) ::setenv(name.c_str(), value->c_str(), 1);
      else ::unsetenv(name.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

/// Runs `body` with OMP_NUM_THREADS set to `value` (unset for nullptr), then restores it and LibTorch's
/// thread count.
template <class Body>
void with_omp_num_threads(const char* value, Body body) {
  const int threads = at::get_num_threads();
  {
    const ScopedEnvironment environment("OMP_NUM_THREADS", value);
    body();
  }
  at::set_num_threads(threads);
}

}  // namespace davi::testing

/// Expects `statement` to throw davi::Error whose message contains `fragment`.
#define EXPECT_DAVI_ERROR(statement, fragment)                                                   \
  do {                                                                                           \
    try {                                                                                        \
      statement;                                                                                 \
      ADD_FAILURE() << "expected davi::Error containing \"" << (fragment) << "\"";               \
    } catch (const ::davi::Error& e) {                                                           \
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << "message: " << e.what(); \
    }                                                                                            \
  } while (false)
