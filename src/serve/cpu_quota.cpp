#include "serve/cpu_quota.h"

#include <sched.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

namespace squeezenet::serve {

int cpus_in_cpu_max(const std::string& text) {
  std::istringstream in(text);
  std::string quota;
  long long period = 0;
  if (!(in >> quota >> period) || quota == "max" || period <= 0) return 0;
  long long q = 0;
  try {
    q = std::stoll(quota);
  } catch (const std::exception&) {
    return 0;
  }
  if (q <= 0) return 0;
  return static_cast<int>(std::min<long long>((q + period - 1) / period, 1 << 16));
}

namespace {
std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream text;
  text << f.rdbuf();
  return f ? text.str() : "";
}

// The process's own cgroup: the "0::/path" line of /proc/self/cgroup under v2, the "N:...cpu...:/path" one under v1.
std::string own_cgroup(bool v2) {
  std::ifstream f("/proc/self/cgroup");
  std::string line;
  while (std::getline(f, line)) {
    const auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = "," + line.substr(a + 1, b - a - 1) + ",";
    if (v2 ? controllers == ",," : controllers.find(",cpu,") != std::string::npos) return line.substr(b + 1);
  }
  return "/";
}
}  // namespace

int usable_cpus() {
  cpu_set_t set;
  int cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
  const std::string v1 = "/sys/fs/cgroup/cpu" + own_cgroup(false) + "/cpu.cfs_";
  const int quotas[] = {
      cpus_in_cpu_max(read_text("/sys/fs/cgroup" + own_cgroup(true) + "/cpu.max")),
      cpus_in_cpu_max(read_text(v1 + "quota_us") + " " + read_text(v1 + "period_us")),
  };
  for (const int q : quotas)
    if (q > 0) cpus = std::min(cpus, q);
  return std::max(cpus, 1);
}

}  // namespace squeezenet::serve
