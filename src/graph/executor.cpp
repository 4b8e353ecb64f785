#include "graph/executor.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>

#include "core/large_buffer.h"
#include "graph/op_profile.h"

namespace autoglm::graph {

Result<Backend*> Executor::backend_for(const Node& node) const {
  for (Backend* b : backends_) {
    if (b->supports(node)) return b;
  }
  return Unsupported(std::string("no backend supports op ") + op_name(node.op));
}

Status Executor::execute(Backend* be, const Graph& g, NodeId i, ExecState& st) const {
  if (!op_profile_enabled()) return be->execute(g, i, st);
  const Node& node = g.node(i);
  const auto t0 = std::chrono::steady_clock::now();
  Status s = be->execute(g, i, st);
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0);
  op_profile_add(node.op, node.shape.empty() ? 0 : node.shape[0], ns.count());
  return s;
}

Result<std::vector<Tensor>> Executor::run(const Graph& g, StepContext& step, ThreadPool& pool,
                                          const std::vector<Binding>& inputs) {
  for (const Binding& b : inputs) {
    if (b.node < 0 || b.node >= g.size() || g.node(b.node).op != Op::kInput) {
      return Internal("a binding names no input node");
    }
  }
  return g.memory_plan() != nullptr ? run_planned(g, step, pool, inputs) : run_unplanned(g, step, pool, inputs);
}

Result<Executor::Prepared*> Executor::prepare(const Graph& g) {
  for (Prepared& p : prepared_) {
    if (p.revision == g.revision()) {
      p.last_used = ++tick_;
      return &p;
    }
  }
  const MemoryPlan& plan = *g.memory_plan();
  if (plan.arena_bytes > arena_size_) {
    // The views of every kept setup point into the old arena: drop them with it.
    prepared_.clear();
    arena_.reset();
    arena_size_ = (plan.arena_bytes + 4095) / 4096 * 4096;
    arena_ = std::static_pointer_cast<uint8_t>(allocate_large_buffer(arena_size_));
    if (arena_ == nullptr) {
      arena_size_ = 0;
      return ResourceExhausted("out of memory for the activation arena");
    }
  }
  const int32_t n = g.size();
  Prepared p;
  p.revision = g.revision();
  p.last_used = ++tick_;
  p.state.values.resize(static_cast<size_t>(n));
  p.backend.assign(static_cast<size_t>(n), nullptr);
  for (NodeId i = 0; i < n; ++i) {
    const Node& node = g.node(i);
    if (node.op == Op::kInput) {
      p.inputs.push_back(i);
      continue;
    }
    if (node.op == Op::kWeight) {
      if (!node.value.defined()) return Internal("graph weight '" + node.name + "' has no value");
      p.state.values[static_cast<size_t>(i)] = node.value;
      continue;
    }
    AG_ASSIGN_OR_RETURN(p.backend[static_cast<size_t>(i)], backend_for(node));
    p.compute.push_back(i);
    // Every kernel writes its whole output, so arena memory needs no clearing.
    p.state.values[static_cast<size_t>(i)] =
        Tensor::view_of(node.dtype, node.shape, arena_.get() + plan.offsets[static_cast<size_t>(i)], arena_);
  }
  if (prepared_.size() >= kMaxPrepared) {
    prepared_.erase(std::min_element(prepared_.begin(), prepared_.end(),
                                     [](const Prepared& a, const Prepared& b) { return a.last_used < b.last_used; }));
  }
  prepared_.push_back(std::move(p));
  return &prepared_.back();
}

Result<std::vector<Tensor>> Executor::run_planned(const Graph& g, StepContext& step, ThreadPool& pool,
                                                  const std::vector<Binding>& inputs) {
  AG_ASSIGN_OR_RETURN(Prepared* p, prepare(g));
  ExecState& st = p->state;
  for (NodeId i : p->inputs) st.values[static_cast<size_t>(i)] = g.node(i).value;
  for (const Binding& b : inputs) st.values[static_cast<size_t>(b.node)] = b.value;
  // Inputs are the caller's tensors: not held past the run, whatever its outcome.
  struct Unbind {
    Prepared* p;
    ~Unbind() {
      for (NodeId i : p->inputs) p->state.values[static_cast<size_t>(i)] = Tensor();
      p->state.step = nullptr;
      p->state.pool = nullptr;
    }
  } unbind{p};
  for (NodeId i : p->inputs) {
    if (!st.values[static_cast<size_t>(i)].defined()) return Internal("graph input '" + g.node(i).name + "' is not bound");
  }
  st.step = &step;
  st.pool = &pool;
  for (NodeId i : p->compute) AG_RETURN_IF_ERROR(execute(p->backend[static_cast<size_t>(i)], g, i, st));
  last_peak_bytes_ = g.memory_plan()->arena_bytes;
  std::vector<Tensor> outs;
  outs.reserve(g.outputs().size());
  for (NodeId o : g.outputs()) outs.push_back(st.values[static_cast<size_t>(o)]);
  return outs;
}

Result<std::vector<Tensor>> Executor::run_unplanned(const Graph& g, StepContext& step, ThreadPool& pool,
                                                    const std::vector<Binding>& inputs) {
  const int32_t n = g.size();
  // Last consumer of every node, so its buffer can go as soon as nobody needs it.
  std::vector<int32_t> last_use(static_cast<size_t>(n), -1);
  for (NodeId i = 0; i < n; ++i) {
    for (NodeId in : g.node(i).inputs) last_use[static_cast<size_t>(in)] = i;
  }
  for (NodeId o : g.outputs()) last_use[static_cast<size_t>(o)] = n;

  ExecState st;
  st.values.resize(static_cast<size_t>(n));
  for (const Binding& b : inputs) st.values[static_cast<size_t>(b.node)] = b.value;
  st.step = &step;
  st.pool = &pool;
  size_t live = 0, peak = 0;
  for (NodeId i = 0; i < n; ++i) {
    const Node& node = g.node(i);
    if (node.op == Op::kInput || node.op == Op::kWeight) {
      if (st.values[static_cast<size_t>(i)].defined()) continue;  // bound for this run
      if (!node.value.defined()) return Internal("graph input '" + node.name + "' is not bound");
      st.values[static_cast<size_t>(i)] = node.value;
      continue;
    }
    AG_ASSIGN_OR_RETURN(Backend* be, backend_for(node));
    st.values[static_cast<size_t>(i)] = Tensor::empty(node.dtype, node.shape);
    live += st.values[static_cast<size_t>(i)].nbytes();
    peak = std::max(peak, live);
    AG_RETURN_IF_ERROR(execute(be, g, i, st));
    for (NodeId in : node.inputs) {
      const Node& src = g.node(in);
      if (last_use[static_cast<size_t>(in)] == i && src.op != Op::kInput && src.op != Op::kWeight) {
        live -= st.values[static_cast<size_t>(in)].nbytes();
        st.values[static_cast<size_t>(in)] = Tensor();
      }
    }
  }
  last_peak_bytes_ = peak;
  std::vector<Tensor> outs;
  outs.reserve(g.outputs().size());
  for (NodeId o : g.outputs()) outs.push_back(st.values[static_cast<size_t>(o)]);
  return outs;
}

}  // namespace autoglm::graph
