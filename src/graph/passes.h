// Graph passes: each takes a graph and returns an equivalent one. They run before execution;
// tests check that the optimized graph computes the same outputs as the original.
#pragma once

#include "graph/graph.h"

namespace autoglm::graph {

// Drops nodes that no output depends on.
Graph eliminate_dead_nodes(const Graph& g);
// rms_norm(x) followed by mul(., w) with no other consumer of the norm -> rms_norm_mul(x, w):
// one pass over the row instead of two.
Graph fuse_rms_norm_mul(const Graph& g);

// Assigns every intermediate an offset in one arena by liveness (first fit over free ranges):
// a node's buffer is reused once its last consumer has run. Outputs stay live to the end.
MemoryPlan plan_memory(const Graph& g);

// swiglu(matmul(x, w_gate), matmul(x, w_up)) with both products used only there and weights
// of one type -> matmul_swiglu(x, w_gate, w_up); swiglu_paired(matmul(x, w_gate_up)) with the
// product used only there -> matmul_swiglu(x, w_gate_up).
Graph fuse_matmul_swiglu(const Graph& g);
// Merges matmuls that read the same activation with weights of one type and row length
// (a layer's Q, K and V projections) into one kMatMulCat plus a kSliceCols per original
// output: one activation conversion and one pass of the thread pool instead of three. Weight
// nodes move to the front of the order (they have no inputs) so the merged node can read all.
Graph merge_parallel_matmuls(const Graph& g);

// add(a, matmul(x, w)) (either order) with the product used only there -> matmul_add(x, w, a):
// the residual is added by the thread that computed each output, while it is in its cache,
// instead of by a separate serial pass over outputs half computed on the other core.
Graph fuse_matmul_add(const Graph& g);

struct PassOptions {
  bool fuse = true;
  bool plan_memory = true;
};
// The standard pipeline.
Graph optimize(const Graph& g, const PassOptions& opts = {});

}  // namespace autoglm::graph
