#include "model/thread_team.h"

#include <immintrin.h>

#include <chrono>

namespace squeezenet {

namespace {

// Long enough to cover the imbalance of a step, or the gap between two forwards, on an idle machine; far
// shorter than an OS time slice.
constexpr std::chrono::microseconds kSpin{50};

// Returns once `value` no longer holds `old`: spinning for kSpin, then sleeping in the kernel (futex).
void await_change(const std::atomic<uint32_t>& value, uint32_t old) {
  const auto give_up = std::chrono::steady_clock::now() + kSpin;
  while (value.load(std::memory_order_acquire) == old) {
    if (std::chrono::steady_clock::now() > give_up)
      value.wait(old, std::memory_order_acquire);
    else
      _mm_pause();
  }
}

}  // namespace

ThreadTeam::ThreadTeam(int threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { work(i); });
}

ThreadTeam::~ThreadTeam() {
  stop_ = true;
  job_generation_.fetch_add(1, std::memory_order_release);
  job_generation_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadTeam::run(const std::function<void(int)>& f) {
  job_ = &f;
  job_generation_.fetch_add(1, std::memory_order_release);
  job_generation_.notify_all();
  f(0);
  barrier();
}

void ThreadTeam::work(int member) {
  uint32_t seen = 0;
  for (;;) {
    await_change(job_generation_, seen);
    seen = job_generation_.load(std::memory_order_acquire);
    if (stop_) return;
    (*job_)(member);
    barrier();
  }
}

void ThreadTeam::barrier() {
  const uint32_t generation = barrier_generation_.load(std::memory_order_acquire);
  if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == size()) {
    arrived_.store(0, std::memory_order_relaxed);
    barrier_generation_.store(generation + 1, std::memory_order_release);
    barrier_generation_.notify_all();
    return;
  }
  await_change(barrier_generation_, generation);
}

}  // namespace squeezenet
