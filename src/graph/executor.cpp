#include "graph/executor.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>

#include "core/large_buffer.h"
#include "graph/op_profile.h"

namespace autoglm::graph {

Result<std::vector<Tensor>> Executor::run(const Graph& g, StepContext& step, ThreadPool& pool,
                                          const std::vector<Binding>& inputs) {
  const int32_t n = g.size();
  // Last consumer of every node, so its buffer can go as soon as nobody needs it.
  std::vector<int32_t> last_use(static_cast<size_t>(n), -1);
  for (NodeId i = 0; i < n; ++i) {
    for (NodeId in : g.node(i).inputs) last_use[static_cast<size_t>(in)] = i;
  }
  for (NodeId o : g.outputs()) last_use[static_cast<size_t>(o)] = n;

  const MemoryPlan* plan = g.memory_plan();
  if (plan != nullptr && plan->arena_bytes > arena_size_) {
    arena_size_ = (plan->arena_bytes + 4095) / 4096 * 4096;
    arena_ = std::static_pointer_cast<uint8_t>(allocate_large_buffer(arena_size_));
    if (arena_ == nullptr) return ResourceExhausted("out of memory for the activation arena");
  }

  ExecState st;
  st.values.resize(static_cast<size_t>(n));
  for (const Binding& b : inputs) {
    if (b.node < 0 || b.node >= n || g.node(b.node).op != Op::kInput) return Internal("a binding names no input node");
    st.values[static_cast<size_t>(b.node)] = b.value;
  }
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
    Backend* be = nullptr;
    for (Backend* b : backends_) {
      if (b->supports(node)) {
        be = b;
        break;
      }
    }
    if (be == nullptr) return Unsupported(std::string("no backend supports op ") + op_name(node.op));
    if (plan != nullptr) {
      // Every kernel writes its whole output, so arena memory needs no clearing.
      st.values[static_cast<size_t>(i)] =
          Tensor::view_of(node.dtype, node.shape, arena_.get() + plan->offsets[static_cast<size_t>(i)], arena_);
    } else {
      st.values[static_cast<size_t>(i)] = Tensor::empty(node.dtype, node.shape);
      live += st.values[static_cast<size_t>(i)].nbytes();
      peak = std::max(peak, live);
    }
    const bool timed = op_profile_enabled();
    const auto t0 = timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    AG_RETURN_IF_ERROR(be->execute(g, i, st));
    if (timed) {
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0);
      op_profile_add(node.op, node.shape.empty() ? 0 : node.shape[0], ns.count());
    }
    for (NodeId in : node.inputs) {
      const Node& src = g.node(in);
      if (last_use[static_cast<size_t>(in)] == i && src.op != Op::kInput && src.op != Op::kWeight) {
        if (plan == nullptr) live -= st.values[static_cast<size_t>(in)].nbytes();
        st.values[static_cast<size_t>(in)] = Tensor();
      }
    }
  }
  last_peak_bytes_ = plan != nullptr ? plan->arena_bytes : peak;
  std::vector<Tensor> outs;
  outs.reserve(g.outputs().size());
  for (NodeId o : g.outputs()) outs.push_back(st.values[static_cast<size_t>(o)]);
  return outs;
}

}  // namespace autoglm::graph
