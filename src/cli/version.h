// The plancache version the CLI reports (`plancache --version`, User-Agent).
// PLANCACHE_VERSION comes from the CMake project version (src/cli/CMakeLists.txt).
#pragma once

#include <string_view>

namespace plancache::cli {

inline constexpr std::string_view kVersionString = PLANCACHE_VERSION;

}  // namespace plancache::cli
