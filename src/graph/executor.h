// Executor: runs a graph node by node on the backends that support each node. With a memory
// plan every intermediate is a fixed view into one arena, so the setup of a run (weights
// bound, views made, a backend picked per node) is done once per graph revision and kept; a
// decode step then only binds its inputs and calls the kernels. Without a plan, intermediates
// are allocated as they are produced and freed after their last consumer.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "autoglm/status.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "graph/graph.h"
#include "graph/step.h"

namespace autoglm::graph {

// What a backend sees while executing one node.
struct ExecState {
  std::vector<Tensor> values;  // per node: its output (inputs/weights: their bound value)
  StepContext* step = nullptr;
  ThreadPool* pool = nullptr;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;
  virtual bool supports(const Node& node) const = 0;
  // Computes node `id` into state.values[id] (already allocated with the node's shape/dtype).
  virtual Status execute(const Graph& g, NodeId id, ExecState& state) = 0;
};

class Executor {
 public:
  // Backends in order of preference; the first that supports a node runs it.
  explicit Executor(std::vector<Backend*> backends) : backends_(std::move(backends)) {}

  // A value for one input node, given per run (a step's tokens and positions), so that a cached
  // graph is run as it is: copying the plan to set its inputs cost ~50 us per decode step, and
  // as much again to free the copy.
  struct Binding {
    NodeId node = -1;
    Tensor value;
  };
  // Runs g with `inputs` bound (any other input node must carry its own value); returns the
  // values of g.outputs() in order. With a memory plan the outputs live in the arena: they stay
  // valid until the next run().
  Result<std::vector<Tensor>> run(const Graph& g, StepContext& step, ThreadPool& pool,
                                  const std::vector<Binding>& inputs = {});

  // Peak bytes of intermediates in the last run (memory planning shows here).
  size_t last_peak_bytes() const { return last_peak_bytes_; }

 private:
  // A planned graph's run setup, kept per Graph::revision(): per-node setup was ~75 ns a node,
  // ~46 us of a 2.1 ms smollm2 decode step (610 nodes).
  struct Prepared {
    uint64_t revision = 0;
    uint64_t last_used = 0;
    ExecState state;               // weights bound; intermediates viewing the arena
    std::vector<NodeId> inputs;    // input nodes, bound per run
    std::vector<NodeId> compute;   // the other nodes, in order
    std::vector<Backend*> backend;  // per node (null for inputs and weights)
  };
  static constexpr size_t kMaxPrepared = 16;  // as many as the engine keeps step plans

  Result<Backend*> backend_for(const Node& node) const;
  Result<Prepared*> prepare(const Graph& g);
  Result<std::vector<Tensor>> run_planned(const Graph& g, StepContext& step, ThreadPool& pool,
                                          const std::vector<Binding>& inputs);
  Result<std::vector<Tensor>> run_unplanned(const Graph& g, StepContext& step, ThreadPool& pool,
                                            const std::vector<Binding>& inputs);
  Status execute(Backend* be, const Graph& g, NodeId i, ExecState& st) const;

  std::vector<Backend*> backends_;
  size_t last_peak_bytes_ = 0;
  std::vector<Prepared> prepared_;
  uint64_t tick_ = 0;
  // Arena for graphs with a memory plan; grows to the largest plan seen and is reused.
  std::shared_ptr<uint8_t> arena_;
  size_t arena_size_ = 0;
};

}  // namespace autoglm::graph
