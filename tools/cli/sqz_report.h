#pragma once
// The per-layer byte table of a .sqz, printed by `info` and `compress`.
#include "formats/sqz.h"

namespace squeezenet::cli {

void print_sqz_report(const SqzStats& stats);

}  // namespace squeezenet::cli
