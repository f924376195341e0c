#include "train/profile.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace squeezenet::train::profile {
namespace {

struct Total {
  int64_t ns = 0, calls = 0;
};

std::mutex g_mutex;
std::map<std::string, Total> g_totals;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

bool enabled() {
  static const bool on = std::getenv("SQUEEZENET_PROFILE") != nullptr;
  return on;
}

Scope::Scope(std::string_view phase, std::string_view what) : phase_(phase), what_(what) {
  if (enabled()) start_ns_ = now_ns();
}

Scope::~Scope() {
  if (start_ns_ < 0) return;
  const int64_t ns = now_ns() - start_ns_;
  std::string name(phase_);
  if (!what_.empty()) name.append(" ").append(what_);
  const std::lock_guard lock(g_mutex);
  Total& t = g_totals[name];
  t.ns += ns;
  ++t.calls;
}

void report(int64_t images) {
  if (!enabled()) return;
  std::vector<std::pair<std::string, Total>> rows;
  {
    const std::lock_guard lock(g_mutex);
    rows.assign(g_totals.begin(), g_totals.end());
    g_totals.clear();
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.ns > b.second.ns; });
  const double per_image = 1e-6 / static_cast<double>(std::max<int64_t>(images, 1));
  std::fprintf(stderr, "profile over %lld images: ms per image, calls\n", static_cast<long long>(images));
  for (const auto& [name, t] : rows)
    std::fprintf(stderr, "  %9.3f  %7lld  %s\n", static_cast<double>(t.ns) * per_image, static_cast<long long>(t.calls),
                 name.c_str());
}

}  // namespace squeezenet::train::profile
