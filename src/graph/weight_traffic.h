// How many weight bytes a step graph holds and reads: the byte count of the memory-bandwidth
// roofline of decode (a decode step reads every weight it uses once). Weights are told apart by
// the memory they view, so one tensor behind several nodes (a tied embedding: the token table
// and the output head) counts once.
#pragma once

#include <cstddef>

#include "graph/graph.h"

namespace autoglm::graph {

struct WeightTraffic {
  size_t held = 0;  // distinct weight memory, each byte once
  // Bytes one run of the graph reads: every weight an op other than embed uses, in full; a
  // table used only by embed lookups, one row per looked-up token (at most the table).
  size_t read = 0;
};

WeightTraffic weight_traffic(const Graph& g);

}  // namespace autoglm::graph
