#pragma once
// A fixed team of threads that run one function together and then sleep: what an OpenMP parallel region does,
// but every wait spins only briefly before giving its core away. libgomp, by default, spins for milliseconds
// (300000 pause instructions), which on a machine shared with other work starves the very thread being waited
// for; its wait policy can only be changed through the environment.
#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace squeezenet {

class ThreadTeam {
 public:
  // `threads` members: the caller of run() and threads - 1 workers started here.
  explicit ThreadTeam(int threads);
  ~ThreadTeam();
  ThreadTeam(const ThreadTeam&) = delete;
  ThreadTeam& operator=(const ThreadTeam&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls f(member) on every member, the caller being member 0; returns when all have returned. f must not throw.
  void run(const std::function<void(int)>& f);

  // Inside f: returns when every member has called it.
  void barrier();

 private:
  void work(int member);

  std::vector<std::thread> workers_;
  const std::function<void(int)>* job_ = nullptr;
  bool stop_ = false;
  std::atomic<uint32_t> job_generation_{0};
  std::atomic<int> arrived_{0};
  std::atomic<uint32_t> barrier_generation_{0};
};

}  // namespace squeezenet
