#pragma once
// Runs f and checks it throws squeezenet::Error whose message mentions every needle.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "squeezenet/error.h"

namespace squeezenet::test {

inline void expect_error(const std::function<void()>& f, const std::vector<std::string>& needles) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning " << needles.front();
  } catch (const Error& e) {
    for (const auto& n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << n << " not in: " << e.what();
  }
}

}  // namespace squeezenet::test
