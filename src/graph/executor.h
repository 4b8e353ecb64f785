// Executor: runs a graph node by node on the backends that support each node, allocating
// intermediates as they are produced and freeing each one after its last consumer.
#pragma once

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
  std::vector<Backend*> backends_;
  size_t last_peak_bytes_ = 0;
  // Arena for graphs with a memory plan; grows to the largest plan seen and is reused.
  std::shared_ptr<uint8_t> arena_;
  size_t arena_size_ = 0;
};

}  // namespace autoglm::graph
