// libFuzzer target for the experiment reader (experiment_reader.hpp). A davi::Error is the expected end
// of a bad file; any other exception escapes and libFuzzer reports it, as it reports crashes, leaks and
// the sanitizers' findings. Build and run: tools/davi fuzz [SECONDS].
#include <torch/torch.h>  // first: LibTorch's headers need their own order (clang finds IValue incomplete otherwise)

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "experiment_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    davi::testing::read_experiment(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const davi::Error&) {
  }
  return 0;
}
