// Cells across MPI ranks (`mpirun -np K amflow sweep ... --mpi`): rank 0 hands out cells one at a
// time to whichever rank asks (so cells of very different cost balance themselves), computes cells
// itself on a second thread, and receives every row and releases them in the list's order; the
// other ranks only compute. Built with OpenMPI when CMake finds it (AMFLOW_HAVE_MPI); otherwise
// every entry point refuses with one input error.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "amflow/io/table.hpp"

namespace amflow::cli {

// Whether this amflow was built with MPI.
bool mpi_built();

// MPI for the lifetime of the object (MPI_Init_thread, funneled: only the constructing thread
// calls MPI; MPI_Finalize at the end). On ranks other than 0 standard error goes quiet (every rank
// meets the same bad input; rank 0 says it once), except for mpi_fatal's messages.
class mpi_session {
 public:
  mpi_session();
  ~mpi_session();
  mpi_session(const mpi_session&) = delete;
  mpi_session& operator=(const mpi_session&) = delete;
  int rank() const { return rank_; }
  int size() const { return size_; }
  // Rank 0 tells every rank whether it could start (its output opened): true everywhere when it
  // could. Collective.
  bool agree(bool rank_zero_ok) const;

 private:
  int rank_ = 0, size_ = 1;
};

// Runs compute(cells[k]) for every k once, somewhere among the ranks, and on rank 0 calls
// deliver(k, row) for k = 0, 1, ... in order (each as soon as it and the rows before it are in).
// Collective: every rank calls it with the same cells. An exception on any rank stops every rank
// (MPI_Abort, exit code 1) after its message is printed.
void mpi_distribute(const mpi_session& session, const std::vector<size_t>& cells,
                    const std::function<std::vector<io::cell>(size_t)>& compute,
                    const std::function<void(size_t, std::vector<io::cell>)>& deliver);

}  // namespace amflow::cli
