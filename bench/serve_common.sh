# Sourced by bench/serve_*.sh: loopback ports, the CPU a table was measured on, and wrk's figures.

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 600); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

# cpu_line TEXT: the CPU's name, vCPUs and vector extensions, then TEXT (what was run, when).
cpu_line() {
  has() { grep -qw "$1" /proc/cpuinfo && echo "$2"; }
  echo "CPU: $(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2}'), $(nproc) vCPU;" \
    "$(has avx512f AVX-512) $(has avx512_vnni +VNNI) $(has avx512_bf16 +BF16) $(has amx_tile +AMX || echo 'no AMX');" \
    "$1"
}

# wrk_figures OUTPUT: sets RPS, P50 and P99 from the output of `wrk --latency`.
wrk_figures() {
  read -r RPS P50 P99 < <(awk '/Requests\/sec/ {r = $2} $1 == "50%" {p50 = $2} $1 == "99%" {p99 = $2}
                               END {print r, p50, p99}' <<<"$1")
}
