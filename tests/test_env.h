#pragma once
// Where tests find shared data, generated fixtures and the CLI; set by CTest, with the same defaults as CMake.
#include <cstdlib>
#include <string>

namespace squeezenet::test {

inline std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}
inline std::string data_dir() { return env_or("SQUEEZENET_DATA", "../shared/data"); }
inline std::string fixtures_dir() { return env_or("SQUEEZENET_FIXTURES", "build/tests/fixtures"); }
inline std::string cli() { return env_or("SQUEEZENET_CLI", "build/squeezenet"); }

}  // namespace squeezenet::test
