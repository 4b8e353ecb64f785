#include "graph/passes.h"

#include <vector>

namespace autoglm::graph {
namespace {

std::vector<int32_t> consumer_counts(const Graph& g) {
  std::vector<int32_t> uses(static_cast<size_t>(g.size()), 0);
  for (const Node& n : g.nodes()) {
    for (NodeId in : n.inputs) ++uses[static_cast<size_t>(in)];
  }
  for (NodeId o : g.outputs()) ++uses[static_cast<size_t>(o)];
  return uses;
}

// Copies the kept nodes of g into a new graph, renumbering inputs; `replace[i]` >= 0 makes
// node i an alias of an earlier node.
Graph rebuild(const Graph& g, const std::vector<bool>& keep, const std::vector<Node>& replacement_nodes,
              const std::vector<bool>& has_replacement) {
  Graph out;
  std::vector<NodeId> remap(static_cast<size_t>(g.size()), -1);
  for (NodeId i = 0; i < g.size(); ++i) {
    if (!keep[static_cast<size_t>(i)]) continue;
    Node n = has_replacement[static_cast<size_t>(i)] ? replacement_nodes[static_cast<size_t>(i)] : g.node(i);
    for (NodeId& in : n.inputs) in = remap[static_cast<size_t>(in)];
    remap[static_cast<size_t>(i)] = out.push(std::move(n));
  }
  for (NodeId o : g.outputs()) out.mark_output(remap[static_cast<size_t>(o)]);
  return out;
}

}  // namespace

Graph eliminate_dead_nodes(const Graph& g) {
  std::vector<bool> live(static_cast<size_t>(g.size()), false);
  for (NodeId o : g.outputs()) live[static_cast<size_t>(o)] = true;
  for (NodeId i = g.size() - 1; i >= 0; --i) {
    if (!live[static_cast<size_t>(i)]) continue;
    for (NodeId in : g.node(i).inputs) live[static_cast<size_t>(in)] = true;
  }
  // Attention nodes write the KV cache: a side effect, so they always stay.
  for (NodeId i = 0; i < g.size(); ++i) {
    if (g.node(i).op == Op::kAttention && !live[static_cast<size_t>(i)]) {
      live[static_cast<size_t>(i)] = true;
      std::vector<NodeId> stack(g.node(i).inputs);
      while (!stack.empty()) {
        NodeId s = stack.back();
        stack.pop_back();
        if (live[static_cast<size_t>(s)]) continue;
        live[static_cast<size_t>(s)] = true;
        for (NodeId in : g.node(s).inputs) stack.push_back(in);
      }
    }
  }
  std::vector<Node> none(static_cast<size_t>(g.size()));
  return rebuild(g, live, none, std::vector<bool>(static_cast<size_t>(g.size()), false));
}

Graph fuse_rms_norm_mul(const Graph& g) {
  const auto uses = consumer_counts(g);
  const size_t n = static_cast<size_t>(g.size());
  std::vector<bool> keep(n, true), has_rep(n, false);
  std::vector<Node> rep(n);
  for (NodeId i = 0; i < g.size(); ++i) {
    const Node& m = g.node(i);
    if (m.op != Op::kMul) continue;
    const NodeId norm = m.inputs[0];
    const Node& nn = g.node(norm);
    if (nn.op != Op::kRmsNorm || uses[static_cast<size_t>(norm)] != 1) continue;
    const Node& w = g.node(m.inputs[1]);
    if (w.op != Op::kWeight || w.dtype != DType::F32 || w.shape.size() != 1) continue;
    Node fused = m;
    fused.op = Op::kRmsNormMul;
    fused.inputs = {nn.inputs[0], m.inputs[1]};
    fused.attrs.eps = nn.attrs.eps;
    rep[static_cast<size_t>(i)] = std::move(fused);
    has_rep[static_cast<size_t>(i)] = true;
    keep[static_cast<size_t>(norm)] = false;
  }
  return rebuild(g, keep, rep, has_rep);
}

Graph optimize(const Graph& g, const PassOptions& opts) {
  Graph out = eliminate_dead_nodes(g);
  if (opts.fuse) out = fuse_rms_norm_mul(out);
  return out;
}

}  // namespace autoglm::graph
