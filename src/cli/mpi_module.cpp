// The MPI calls of `sweep --mpi`, in a module of their own (amflow_mpi.so, beside the binary or in
// lib/amflow once installed) that cli/mpi_cells.cpp loads with dlopen only when --mpi runs: the
// other commands never load OpenMPI's libraries (they cost every start of amflow about 15 ms).
// A plain C interface, one function per MPI call that mpi_cells.cpp makes; MPI_COMM_WORLD always.
#include <mpi.h>

extern "C" {

// MPI_Init_thread (funneled); 0 when the library gives less than funneled (then finalized).
int amflow_mpi_init(int* rank, int* size) {
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  if (provided < MPI_THREAD_FUNNELED) {
    MPI_Finalize();
    return 0;
  }
  MPI_Comm_rank(MPI_COMM_WORLD, rank);
  MPI_Comm_size(MPI_COMM_WORLD, size);
  return 1;
}

void amflow_mpi_finalize() { MPI_Finalize(); }

void amflow_mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

int amflow_mpi_bcast_int(int value) {
  MPI_Bcast(&value, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return value;
}

void amflow_mpi_send_bytes(const char* data, int size, int to, int tag) {
  MPI_Send(data, size, MPI_CHAR, to, tag, MPI_COMM_WORLD);
}

void amflow_mpi_recv_bytes(char* data, int size, int from, int tag) {
  MPI_Recv(data, size, MPI_CHAR, from, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
}

void amflow_mpi_send_ll(long long value, int to, int tag) {
  MPI_Send(&value, 1, MPI_LONG_LONG, to, tag, MPI_COMM_WORLD);
}

long long amflow_mpi_recv_ll(int from, int tag) {
  long long value = 0;
  MPI_Recv(&value, 1, MPI_LONG_LONG, from, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  return value;
}

// A message with `tag` from any rank waiting? Then its source and size in bytes.
int amflow_mpi_iprobe(int tag, int* source, int* size) {
  int flag = 0;
  MPI_Status status;
  MPI_Iprobe(MPI_ANY_SOURCE, tag, MPI_COMM_WORLD, &flag, &status);
  if (flag) {
    *source = status.MPI_SOURCE;
    MPI_Get_count(&status, MPI_CHAR, size);
  }
  return flag;
}

}  // extern "C"
