#include "graph/passes.h"

#include <algorithm>
#include <initializer_list>
#include <iterator>
#include <map>
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

// Copies the kept nodes of g into a new graph, renumbering inputs; has_replacement[i] swaps
// node i for replacement_nodes[i] (whose inputs still use g's numbering).
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

// One fusion pass's edits: nodes replaced by fused ones, and the producers they absorbed dropped.
struct Fusion {
  const Graph& g;
  std::vector<int32_t> uses;  // consumers of each node (outputs count as one)
  std::vector<bool> keep, has_rep;
  std::vector<Node> rep;
  explicit Fusion(const Graph& graph)
      : g(graph), uses(consumer_counts(graph)), keep(static_cast<size_t>(graph.size()), true),
        has_rep(static_cast<size_t>(graph.size()), false), rep(static_cast<size_t>(graph.size())) {}
  int32_t uses_of(NodeId i) const { return uses[static_cast<size_t>(i)]; }
  // Node i becomes `fused`; `absorbed` (computed inside it now) leave the graph.
  void replace(NodeId i, Node fused, std::initializer_list<NodeId> absorbed) {
    rep[static_cast<size_t>(i)] = std::move(fused);
    has_rep[static_cast<size_t>(i)] = true;
    for (NodeId a : absorbed) keep[static_cast<size_t>(a)] = false;
  }
  Graph result() const { return rebuild(g, keep, rep, has_rep); }
};

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
  Fusion f(g);
  for (NodeId i = 0; i < g.size(); ++i) {
    const Node& m = g.node(i);
    if (m.op != Op::kMul) continue;
    const NodeId norm = m.inputs[0];
    const Node& nn = g.node(norm);
    if (nn.op != Op::kRmsNorm || f.uses_of(norm) != 1) continue;
    const Node& w = g.node(m.inputs[1]);
    if (w.op != Op::kWeight || w.dtype != DType::F32 || w.shape.size() != 1) continue;
    Node fused = m;
    fused.op = Op::kRmsNormMul;
    fused.inputs = {nn.inputs[0], m.inputs[1]};
    fused.attrs.eps = nn.attrs.eps;
    f.replace(i, std::move(fused), {norm});
  }
  return f.result();
}

Graph fuse_matmul_swiglu(const Graph& g) {
  Fusion f(g);
  for (NodeId i = 0; i < g.size(); ++i) {
    const Node& sw = g.node(i);
    if (sw.op == Op::kSwiGLUPaired) {  // one matmul whose weight holds gate and up interleaved
      const NodeId mi = sw.inputs[0];
      const Node& mm = g.node(mi);
      if (mm.op != Op::kMatMul || f.uses_of(mi) != 1) continue;
      Node fused = sw;
      fused.op = Op::kMatMulSwiGLU;
      fused.inputs = {mm.inputs[0], mm.inputs[1]};
      f.replace(i, std::move(fused), {mi});
      continue;
    }
    if (sw.op != Op::kSwiGLU) continue;
    const NodeId gi = sw.inputs[0], ui = sw.inputs[1];
    const Node& gate = g.node(gi);
    const Node& up = g.node(ui);
    if (gate.op != Op::kMatMul || up.op != Op::kMatMul || gi == ui) continue;
    if (f.uses_of(gi) != 1 || f.uses_of(ui) != 1) continue;
    if (gate.inputs[0] != up.inputs[0] || g.node(gate.inputs[1]).dtype != g.node(up.inputs[1]).dtype) continue;
    Node fused = sw;
    fused.op = Op::kMatMulSwiGLU;
    fused.inputs = {gate.inputs[0], gate.inputs[1], up.inputs[1]};
    f.replace(i, std::move(fused), {gi, ui});
  }
  return f.result();
}

Graph merge_parallel_matmuls(const Graph& g) {
  const size_t n = static_cast<size_t>(g.size());
  // Groups of mergeable matmuls, keyed by the first member; members in graph order.
  std::vector<std::vector<NodeId>> group_of_first(n);
  std::vector<NodeId> first_of(n, -1);
  for (NodeId i = 0; i < g.size(); ++i) {
    const Node& a = g.node(i);
    if (a.op != Op::kMatMul || first_of[static_cast<size_t>(i)] >= 0) continue;
    const Node& wa = g.node(a.inputs[1]);
    if (wa.op != Op::kWeight) continue;
    std::vector<NodeId> members = {i};
    for (NodeId j = i + 1; j < g.size(); ++j) {
      const Node& b = g.node(j);
      if (b.op != Op::kMatMul || b.inputs[0] != a.inputs[0] || first_of[static_cast<size_t>(j)] >= 0) continue;
      const Node& wb = g.node(b.inputs[1]);
      if (wb.op != Op::kWeight || wb.value.dtype() != wa.value.dtype() || wb.value.cols() != wa.value.cols()) continue;
      members.push_back(j);
    }
    if (members.size() < 2) continue;
    for (NodeId m : members) first_of[static_cast<size_t>(m)] = i;
    group_of_first[static_cast<size_t>(i)] = std::move(members);
  }

  Graph out;
  std::vector<NodeId> remap(n, -1);
  auto copy_node = [&](NodeId i) {
    Node node = g.node(i);
    for (NodeId& in : node.inputs) in = remap[static_cast<size_t>(in)];
    remap[static_cast<size_t>(i)] = out.push(std::move(node));
  };
  for (NodeId i = 0; i < g.size(); ++i) {
    if (g.node(i).op == Op::kWeight || g.node(i).op == Op::kInput) copy_node(i);
  }
  std::vector<NodeId> cat_of(n, -1);
  std::vector<int64_t> col_of(n, 0);
  for (NodeId i = 0; i < g.size(); ++i) {
    const Node& node = g.node(i);
    if (node.op == Op::kWeight || node.op == Op::kInput) continue;
    const NodeId first = first_of[static_cast<size_t>(i)];
    if (first < 0) {
      copy_node(i);
      continue;
    }
    if (first == i) {  // emit the merged product where its first member stood
      Node cat;
      cat.op = Op::kMatMulCat;
      cat.dtype = node.dtype;
      cat.inputs = {remap[static_cast<size_t>(node.inputs[0])]};
      int64_t cols = 0;
      std::string name;
      for (NodeId m : group_of_first[static_cast<size_t>(i)]) {
        cat.inputs.push_back(remap[static_cast<size_t>(g.node(m).inputs[1])]);
        col_of[static_cast<size_t>(m)] = cols;
        cols += g.node(m).shape.back();
        name += (name.empty() ? "" : "+") + g.node(m).name;
      }
      cat.shape = node.shape;
      cat.shape.back() = cols;
      cat.name = name;
      cat_of[static_cast<size_t>(i)] = out.push(std::move(cat));
    }
    Node slice = node;
    slice.op = Op::kSliceCols;
    slice.inputs = {cat_of[static_cast<size_t>(first)]};
    slice.attrs.col_begin = col_of[static_cast<size_t>(i)];
    remap[static_cast<size_t>(i)] = out.push(std::move(slice));
  }
  for (NodeId o : g.outputs()) out.mark_output(remap[static_cast<size_t>(o)]);
  return out;
}

Graph fuse_matmul_add(const Graph& g) {
  Fusion f(g);
  for (NodeId i = 0; i < g.size(); ++i) {
    const Node& add = g.node(i);
    if (add.op != Op::kAdd || add.inputs[0] == add.inputs[1]) continue;
    for (int side : {1, 0}) {  // float addition commutes exactly: either operand may be the product
      const NodeId mi = add.inputs[static_cast<size_t>(side)], ri = add.inputs[static_cast<size_t>(1 - side)];
      const Node& mm = g.node(mi);
      if (mm.op != Op::kMatMul || f.uses_of(mi) != 1 || mm.shape != add.shape) continue;
      if (g.node(ri).dtype != DType::F32 || g.node(ri).shape != add.shape) continue;
      Node fused = add;
      fused.op = Op::kMatMulAdd;
      fused.inputs = {mm.inputs[0], mm.inputs[1], ri};
      f.replace(i, std::move(fused), {mi});
      break;
    }
  }
  return f.result();
}

MemoryPlan plan_memory(const Graph& g) {
  constexpr size_t kAlign = 64;
  const size_t n = static_cast<size_t>(g.size());
  std::vector<int32_t> last_use(n, -1);
  for (NodeId i = 0; i < g.size(); ++i) {
    for (NodeId in : g.node(i).inputs) last_use[static_cast<size_t>(in)] = i;
  }
  for (NodeId o : g.outputs()) last_use[static_cast<size_t>(o)] = g.size();

  MemoryPlan plan;
  plan.offsets.assign(n, -1);
  std::map<size_t, size_t> free_ranges;              // offset -> size, coalesced
  std::multimap<int32_t, std::pair<size_t, size_t>> live;  // last use -> (offset, size)
  size_t top = 0;
  auto give_back = [&](size_t off, size_t size) {
    auto it = free_ranges.emplace(off, size).first;
    if (auto next = std::next(it); next != free_ranges.end() && it->first + it->second == next->first) {
      it->second += next->second;
      free_ranges.erase(next);
    }
    if (it != free_ranges.begin()) {
      auto prev = std::prev(it);
      if (prev->first + prev->second == it->first) {
        prev->second += it->second;
        free_ranges.erase(it);
      }
    }
  };
  for (NodeId i = 0; i < g.size(); ++i) {
    const Node& node = g.node(i);
    // Buffers whose last reader ran before this node are free (this node's own inputs are not:
    // it reads them while writing its output).
    while (!live.empty() && live.begin()->first < i) {
      give_back(live.begin()->second.first, live.begin()->second.second);
      live.erase(live.begin());
    }
    if (node.op == Op::kInput || node.op == Op::kWeight || last_use[static_cast<size_t>(i)] < 0) continue;
    int64_t rows = 1;
    for (size_t d = 0; d + 1 < node.shape.size(); ++d) rows *= node.shape[d];
    const size_t bytes = node.shape.empty() ? row_size(node.dtype, 1)
                                            : static_cast<size_t>(rows) * row_size(node.dtype, node.shape.back());
    const size_t size = std::max<size_t>(kAlign, (bytes + kAlign - 1) / kAlign * kAlign);
    plan.naive_bytes += size;
    size_t off = top;
    auto fit = std::find_if(free_ranges.begin(), free_ranges.end(), [&](const auto& r) { return r.second >= size; });
    if (fit != free_ranges.end()) {
      off = fit->first;
      const size_t left = fit->second - size;
      free_ranges.erase(fit);
      if (left > 0) free_ranges.emplace(off + size, left);
    } else if (!free_ranges.empty() && std::prev(free_ranges.end())->first + std::prev(free_ranges.end())->second == top) {
      // Grow the arena from the free range that ends at its top.
      off = std::prev(free_ranges.end())->first;
      free_ranges.erase(std::prev(free_ranges.end()));
      top = off + size;
    } else {
      top += size;
    }
    top = std::max(top, off + size);
    plan.offsets[static_cast<size_t>(i)] = static_cast<int64_t>(off);
    live.emplace(last_use[static_cast<size_t>(i)], std::make_pair(off, size));
  }
  plan.arena_bytes = top;
  return plan;
}

Graph optimize(const Graph& g, const PassOptions& opts) {
  Graph out = eliminate_dead_nodes(g);
  if (opts.fuse) {
    out = fuse_rms_norm_mul(out);
    out = fuse_matmul_swiglu(out);
    out = merge_parallel_matmuls(out);  // after the gate/up fusion took its pair
    out = fuse_matmul_add(out);         // the products left alone
  }
  if (opts.plan_memory) out.set_memory_plan(plan_memory(out));
  return out;
}

}  // namespace autoglm::graph
