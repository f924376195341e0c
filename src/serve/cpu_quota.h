#pragma once
// How many CPUs this process may really use: sizing a compute pool by the host's core count inside a container
// with a CPU quota oversubscribes it, the commonest complaint against CPU inference servers.
#include <string>

namespace squeezenet::serve {

// min(CPUs in the affinity mask, ceil(quota / period) of the cgroup: v2 `cpu.max`, or v1 `cpu.cfs_quota_us` and
// `cpu.cfs_period_us`), at least 1.
int usable_cpus();

// `cpu.max` text ("max 100000", "150000 100000"; v1: "quota period" joined the same way) -> CPUs it allows,
// rounded up; 0 when unlimited (v2 "max", v1 -1) or unreadable.
int cpus_in_cpu_max(const std::string& text);

}  // namespace squeezenet::serve
