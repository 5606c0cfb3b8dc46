#pragma once
// Helpers shared by the test files.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <cstdlib>
#include <filesystem>
#include <string>

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
