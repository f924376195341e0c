#pragma once
// The ranks of a data-parallel run, behind the one operation training needs from them: a sum over all ranks.
// A single process is the one-rank case of the same code path (Horovod's and DDP's shape); the MPI
// implementation lives apart (train/distributed_mpi.h) so that the library itself never links MPI.
#include <cstddef>

namespace squeezenet::train {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Replaces data[0..n) on every rank by its sum over the ranks. Every rank calls it with the same n, in the
  // same order. Throws Error when a rank cannot take part. Floats are summed in the pairwise tree over the
  // ranks' index (train/pairwise_sum.h): the same bits on every rank, and whatever the MPI library.
  virtual void sum(float* data, std::size_t n) = 0;
  virtual void sum(double* data, std::size_t n) = 0;

  // Whether start_sum() returns before the sum is done. Only where any order of the additions gives the same
  // bits (2 ranks: one addition per element); elsewhere start_sum() is sum().
  virtual bool sums_in_background() const { return false; }
  // Starts the sum of data[0..n) as sum() makes it; data must stay untouched until wait_sums(). Every rank
  // starts the same sums in the same order.
  virtual void start_sum(float* data, std::size_t n) { sum(data, n); }
  // Lets started sums advance: Open MPI moves a non-blocking collective on only inside an MPI call.
  virtual void progress() {}
  // Returns when every started sum is done. Throws Error when a rank cannot take part.
  virtual void wait_sums() {}
};

// World size 1: sums are the identity.
Communicator& single_process();

}  // namespace squeezenet::train
