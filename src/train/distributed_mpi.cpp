#include "train/distributed_mpi.h"

#include <mpi.h>

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "squeezenet/error.h"
#include "train/pairwise_sum.h"

namespace squeezenet::train {
namespace {

// Open MPI's mpirun sets OMPI_*, PMIx launchers PMIX_RANK, MPICH's Hydra and Slurm's PMI-1 PMI_RANK.
bool launched_by_mpi() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"})
    if (std::getenv(var) != nullptr) return true;
  return false;
}

void check(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw Error(std::string(what) + " failed: " + std::string(text, static_cast<std::size_t>(length)));
}

template <typename T>
void allreduce(T* data, std::size_t n, MPI_Datatype type) {
  // MPI counts are int: a larger buffer goes in INT_MAX-element pieces.
  for (std::size_t at = 0; at < n; at += INT_MAX) {
    const int count = static_cast<int>(std::min<std::size_t>(n - at, INT_MAX));
    check(MPI_Allreduce(MPI_IN_PLACE, data + at, count, type, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
  }
}

// When one rank of the job dies, mpirun ends the others with SIGTERM (then SIGKILL). A rank waiting in a sum
// would otherwise vanish without a word: it says why it stops, in one line made before any signal can come.
char g_sigterm_line[256];
std::size_t g_sigterm_length = 0;
extern "C" void on_sigterm(int) {
  const ssize_t written = write(STDERR_FILENO, g_sigterm_line, g_sigterm_length);
  static_cast<void>(written);
  _exit(1);
}

void explain_sigterm(int rank, int size) {
  const int n = std::snprintf(g_sigterm_line, sizeof g_sigterm_line,
                              "squeezenet: error: rank %d of %d: terminated by the MPI launcher, which does so when "
                              "another rank of the run ended; the last checkpoint written is whole\n",
                              rank, size);
  g_sigterm_length = static_cast<std::size_t>(std::clamp(n, 0, static_cast<int>(sizeof g_sigterm_line) - 1));
  struct sigaction action {};
  action.sa_handler = on_sigterm;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
}

}  // namespace

std::unique_ptr<MpiCommunicator> MpiCommunicator::if_launched() {
  if (!launched_by_mpi()) return nullptr;
  return std::unique_ptr<MpiCommunicator>(new MpiCommunicator());
}

struct MpiCommunicator::Started {
  std::vector<MPI_Request> requests;
};

MpiCommunicator::MpiCommunicator() : started_(std::make_unique<Started>()) {
  // Only the training thread calls MPI; OpenMP and loader threads never do.
  int provided = 0;
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  // Errors come back as codes (and become Error) instead of ending the process from inside MPI.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  if (size_ > 1) explain_sigterm(rank_, size_);
}

MpiCommunicator::~MpiCommunicator() { MPI_Finalize(); }

void MpiCommunicator::sum(float* data, std::size_t n) {
  // Two ranks: one addition per element, the same bits whichever way MPI does it.
  if (size_ <= 2) return allreduce(data, n, MPI_FLOAT);
  // More: MPI promises no order of the additions, so the sum is made here in the pairwise tree over the ranks
  // (train/pairwise_sum.h). Each rank gathers every rank's piece of one 1/size share of the vector, sums it,
  // and the sums go to all: what a ring allreduce sends, 2 (size - 1) / size of the vector per rank.
  const std::size_t ranks = static_cast<std::size_t>(size_), piece = (n + ranks - 1) / ranks;
  if (piece > static_cast<std::size_t>(INT_MAX))
    throw Error("sum over ranks: " + std::to_string(n) + " floats is too many");
  send_.assign(piece * ranks, 0.0f);
  std::copy_n(data, n, send_.begin());
  receive_.resize(piece * ranks);
  const int count = static_cast<int>(piece);
  check(MPI_Alltoall(send_.data(), count, MPI_FLOAT, receive_.data(), count, MPI_FLOAT, MPI_COMM_WORLD),
        "MPI_Alltoall");
  std::vector<float*> pieces(ranks);
  for (std::size_t r = 0; r < ranks; ++r) pieces[r] = receive_.data() + r * piece;
  pairwise_sum(pieces, 0, count);
  check(MPI_Allgather(pieces.front(), count, MPI_FLOAT, send_.data(), count, MPI_FLOAT, MPI_COMM_WORLD),
        "MPI_Allgather");
  std::copy_n(send_.begin(), n, data);
}
void MpiCommunicator::sum(double* data, std::size_t n) { allreduce(data, n, MPI_DOUBLE); }

void MpiCommunicator::start_sum(float* data, std::size_t n) {
  // More than 2 ranks: the order-fixed sum is two collectives with the tree between them, so it runs here.
  if (size_ != 2) return sum(data, n);
  for (std::size_t at = 0; at < n; at += INT_MAX) {
    const int count = static_cast<int>(std::min<std::size_t>(n - at, INT_MAX));
    MPI_Request& request = started_->requests.emplace_back(MPI_REQUEST_NULL);
    check(MPI_Iallreduce(MPI_IN_PLACE, data + at, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &request),
          "MPI_Iallreduce");
  }
}

void MpiCommunicator::progress() {
  std::vector<MPI_Request>& requests = started_->requests;
  if (requests.empty()) return;
  int done = 0;
  check(MPI_Testall(static_cast<int>(requests.size()), requests.data(), &done, MPI_STATUSES_IGNORE), "MPI_Testall");
}

void MpiCommunicator::wait_sums() {
  std::vector<MPI_Request> requests = std::move(started_->requests);
  started_->requests.clear();
  check(MPI_Waitall(static_cast<int>(requests.size()), requests.data(), MPI_STATUSES_IGNORE), "MPI_Waitall");
}

void MpiCommunicator::abort(int status) {
  MPI_Abort(MPI_COMM_WORLD, status);
  std::_Exit(status);  // MPI_Abort does not return; this is for the compiler
}

}  // namespace squeezenet::train
