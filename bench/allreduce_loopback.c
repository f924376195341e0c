/* What one step's gradient sum costs by itself: MPI_Allreduce (sum, in place) of BYTES of floats, as one call and
   as PIECES calls (the trainer once made one per parameter tensor: 52 for SqueezeNet), and the trainer's own
   order-fixed sum over more than 2 ranks (MPI_Alltoall of 1/size pieces, each rank adds its share's pieces,
   MPI_Allgather), each after a barrier so that the ranks' waiting for each other is not counted. Prints min /
   median / max of the slowest rank's time.

   mpicc -O2 bench/allreduce_loopback.c -o build/allreduce_loopback
   mpirun -np 2 build/allreduce_loopback [BYTES [PIECES [ROUNDS]]]      (default 4941984 52 50: squeezenet1_1) */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int by_value(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

static void report(const char* what, double* t, int n) {
  qsort(t, (size_t)n, sizeof *t, by_value);
  printf("%-26s min %7.3f ms  median %7.3f ms  max %7.3f ms\n", what, 1e3 * t[0], 1e3 * t[n / 2], 1e3 * t[n - 1]);
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  const long bytes = argc > 1 ? atol(argv[1]) : 4941984;
  const int pieces = argc > 2 ? atoi(argv[2]) : 52, rounds = argc > 3 ? atoi(argv[3]) : 50;
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int count = (int)(bytes / 4);
  float* data = calloc((size_t)count, sizeof *data);
  double* one = malloc((size_t)rounds * sizeof *one);
  double* split = malloc((size_t)rounds * sizeof *split);
  double* fixed = malloc((size_t)rounds * sizeof *fixed);
  const int share = (count + size - 1) / size;
  float* padded = calloc((size_t)share * (size_t)size, sizeof *padded);
  float* gathered = calloc((size_t)share * (size_t)size, sizeof *gathered);
  if (count < pieces || pieces < 1 || rounds < 1 || !data || !one || !split || !fixed || !padded || !gathered) {
    fprintf(stderr, "allreduce_loopback: BYTES must hold at least PIECES floats, ROUNDS at least 1\n");
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  for (int r = -5; r < rounds; ++r) { /* five rounds of warm-up */
    MPI_Barrier(MPI_COMM_WORLD);
    double t = MPI_Wtime();
    MPI_Allreduce(MPI_IN_PLACE, data, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    t = MPI_Wtime() - t;
    MPI_Barrier(MPI_COMM_WORLD);
    double u = MPI_Wtime();
    for (int p = 0; p < pieces; ++p) {
      const int begin = (int)((long)count * p / pieces), end = (int)((long)count * (p + 1) / pieces);
      MPI_Allreduce(MPI_IN_PLACE, data + begin, end - begin, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    }
    u = MPI_Wtime() - u;
    MPI_Barrier(MPI_COMM_WORLD);
    double v = MPI_Wtime();
    for (int i = 0; i < count; ++i) padded[i] = data[i];
    MPI_Alltoall(padded, share, MPI_FLOAT, gathered, share, MPI_FLOAT, MPI_COMM_WORLD);
    for (int q = 1; q < size; ++q)
      for (int i = 0; i < share; ++i) gathered[i] += gathered[(long)q * share + i];
    MPI_Allgather(gathered, share, MPI_FLOAT, padded, share, MPI_FLOAT, MPI_COMM_WORLD);
    for (int i = 0; i < count; ++i) data[i] = padded[i];
    v = MPI_Wtime() - v;
    double times[3] = {t, u, v}, slowest[3];
    MPI_Reduce(times, slowest, 3, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    if (r >= 0) one[r] = slowest[0], split[r] = slowest[1], fixed[r] = slowest[2];
  }
  if (rank == 0) {
    printf("%d ranks, %ld bytes, %d rounds\n", size, bytes, rounds);
    report("one call", one, rounds);
    char what[64];
    snprintf(what, sizeof what, "%d calls", pieces);
    report(what, split, rounds);
    report("alltoall + allgather", fixed, rounds);
  }
  free(data), free(one), free(split), free(fixed), free(padded), free(gathered);
  MPI_Finalize();
  return 0;
}
