// Per-op wall time of executed graphs, for finding where a step's time goes:
// AUTOGLM_PROFILE_OPS=1 makes every Executor add each node's time under (op, rows of its output)
// and prints the table to stderr when the process exits. Off (one branch per node) otherwise.
#pragma once

#include <cstdint>

#include "graph/graph.h"

namespace autoglm::graph {

// Whether AUTOGLM_PROFILE_OPS is set (read once).
bool op_profile_enabled();
// Adds one executed node: its op, the leading dimension of its output (the step's token or
// output-row count), and its time.
void op_profile_add(Op op, int64_t rows, int64_t nanoseconds);

}  // namespace autoglm::graph
