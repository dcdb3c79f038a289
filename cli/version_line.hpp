// The line `gan --version` prints (cli/main.cpp through CLI11, cli/fast_version.cpp before start-up).
#pragma once

#include <string>

#include "gan/version.hpp"

namespace gan::cli {

inline std::string version_line() {
  return std::string("gan ") + gan::kVersion + " (LibTorch " + gan::kTorchVersion +
         (gan::kBuiltWithCuda ? ", CUDA kernels" : ", CPU only") + ")";
}

}  // namespace gan::cli
