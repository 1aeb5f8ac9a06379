// Helpers of the sim tests: trace files written into a TempDir, compressed
// with the gzip / xz commands, and read back whole.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "sim/trace.h"
#include "support/temp_dir.h"

namespace plancache::internal::testing {

// Writes `text` to `dir/name`; returns the path.
inline std::string write_file(const plancache::testing::TempDir& dir, const std::string& name,
                              const std::string& text) {
  const std::string path = dir.file(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// Runs a shell command; true on exit status 0.
inline bool shell(const std::string& command) { return std::system(command.c_str()) == 0; }

// Every access of `path`, or the first error's message in *error.
inline std::vector<Access> read_all(const std::string& path, TraceFormat format,
                                    std::string* error = nullptr, TraceFormat* detected = nullptr) {
  std::vector<Access> out;
  auto reader = open_trace(path, format);
  if (!reader.is_ok()) {
    if (error != nullptr) *error = reader.status().message();
    return out;
  }
  if (detected != nullptr) *detected = (*reader)->format();
  Access a;
  for (;;) {
    Result<bool> more = (*reader)->next(&a);
    if (!more.is_ok()) {
      if (error != nullptr) *error = more.status().message();
      return out;
    }
    if (!*more) return out;
    out.push_back(a);
  }
}

inline std::vector<uint64_t> keys_of(const std::vector<Access>& accesses) {
  std::vector<uint64_t> keys;
  for (const Access& a : accesses) keys.push_back(a.key);
  return keys;
}

}  // namespace plancache::internal::testing
