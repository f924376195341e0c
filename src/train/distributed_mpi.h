#pragma once
// The ranks of a job started by an MPI launcher (mpirun, srun): sums over MPI_COMM_WORLD.
// Built only with SQUEEZENET_WITH_MPI, into its own library, so that nothing else links MPI.
#include <memory>
#include <vector>

#include "train/distributed.h"

namespace squeezenet::train {

class MpiCommunicator final : public Communicator {
 public:
  // The job's communicator when the environment says an MPI launcher started this process, else null: a
  // plain run never initialises MPI.
  static std::unique_ptr<MpiCommunicator> if_launched();
  ~MpiCommunicator() override;  // MPI_Finalize
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void sum(float* data, std::size_t n) override;
  void sum(double* data, std::size_t n) override;
  bool sums_in_background() const override { return size_ == 2; }
  void start_sum(float* data, std::size_t n) override;
  void progress() override;
  void wait_sums() override;
  // Ends every rank of the job (MPI_Abort): what a rank must do after an error, since the others would wait
  // for it in their next sum, and MPI_Finalize would wait for them.
  [[noreturn]] void abort(int status);

 private:
  MpiCommunicator();
  int rank_ = 0, size_ = 1;
  std::vector<float> send_, receive_;  // a float sum's pieces over more than 2 ranks
  struct Started;                      // start_sum()'s requests, until wait_sums(); mpi.h stays out of here
  std::unique_ptr<Started> started_;
};

}  // namespace squeezenet::train
