# Shared settings for davi's own programs (tests, benchmarks, davi_run).
find_program(DAVI_CCACHE ccache)
if(DAVI_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${DAVI_CCACHE})
endif()

# DAVI_SANITIZE (tools/davi test --sanitize): every davi program built with AddressSanitizer and
# UndefinedBehaviorSanitizer, any report fatal. LibTorch itself stays uninstrumented.
option(DAVI_SANITIZE "Build davi's programs with ASan and UBSan" OFF)
if(DAVI_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined)
endif()

# One precompiled header shared by every davi program: LibTorch's headers dominate compile time. (davi's
# own headers in it too made a clean 2-core build 16 s slower, 679 s against 663 s: a larger header to
# load in every unit.)
set(DAVI_WARNINGS -Wall -Wextra -Wno-unused-parameter)
add_library(davi_pch OBJECT ${PROJECT_SOURCE_DIR}/cmake/pch_anchor.cpp)
target_link_libraries(davi_pch PUBLIC davi::davi)
target_compile_options(davi_pch PRIVATE ${DAVI_WARNINGS})
target_precompile_headers(davi_pch PUBLIC <torch/torch.h> <nlohmann/json.hpp> <Eigen/Dense>)

function(davi_add_program name)
  add_executable(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE davi::davi)
  target_precompile_headers(${name} REUSE_FROM davi_pch)
  target_compile_options(${name} PRIVATE ${DAVI_WARNINGS})
endfunction()
