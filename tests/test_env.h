#pragma once
// Where tests find shared data, generated fixtures and the CLI; set by CTest, with the same defaults as CMake.
#include <cstdlib>
#include <string>

namespace squeezenet::test {

inline std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}
// CMake compiles its settings in as the defaults, so the tests find everything whichever way they are run.
inline std::string data_dir() { return env_or("SQUEEZENET_DATA", SQUEEZENET_TEST_DATA); }
inline std::string fixtures_dir() { return env_or("SQUEEZENET_FIXTURES", SQUEEZENET_TEST_FIXTURES); }
inline std::string cli() { return env_or("SQUEEZENET_CLI", SQUEEZENET_TEST_CLI); }

}  // namespace squeezenet::test
