#pragma once
#include <stdexcept>
#include <string>

#include "squeezenet/export.h"

namespace squeezenet SQUEEZENET_API {

// Every failure the library reports to a user is an Error whose message names the file and, where there
// is one, the tensor: the CLI prints it and exits non-zero, so it must be enough to act on alone.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace squeezenet
