#include "graph/graph.h"

#include <atomic>

#include "core/check.h"

namespace autoglm::graph {

const char* op_name(Op op) {
  switch (op) {
    case Op::kInput: return "input";
    case Op::kWeight: return "weight";
    case Op::kEmbed: return "embed";
    case Op::kRmsNorm: return "rms_norm";
    case Op::kRmsNormMul: return "rms_norm_mul";
    case Op::kMul: return "mul";
    case Op::kAdd: return "add";
    case Op::kMatMul: return "matmul";
    case Op::kRope: return "rope";
    case Op::kAttention: return "attention";
    case Op::kSwiGLU: return "swiglu";
    case Op::kGetRows: return "get_rows";
    case Op::kMatMulSwiGLU: return "matmul_swiglu";
    case Op::kMatMulCat: return "matmul_cat";
    case Op::kSliceCols: return "slice_cols";
    case Op::kSwiGLUPaired: return "swiglu_paired";
    case Op::kMatMulAdd: return "matmul_add";
  }
  return "?";
}

uint64_t Graph::next_revision() {
  static std::atomic<uint64_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed) + 1;
}

Graph& Graph::operator=(const Graph& o) {
  if (this != &o) {
    nodes_ = o.nodes_;
    outputs_ = o.outputs_;
    plan_ = o.plan_;
    revision_ = next_revision();
  }
  return *this;
}

Graph& Graph::operator=(Graph&& o) noexcept {
  if (this != &o) {
    nodes_ = std::move(o.nodes_);
    outputs_ = std::move(o.outputs_);
    plan_ = std::move(o.plan_);
    revision_ = next_revision();
    o.revision_ = next_revision();
  }
  return *this;
}

NodeId Graph::push(Node node) {
  for (NodeId in : node.inputs) AG_CHECK(in >= 0 && in < size());
  plan_ = MemoryPlan();
  nodes_.push_back(std::move(node));
  revision_ = next_revision();
  return size() - 1;
}

NodeId Graph::input(std::string name, DType dtype, std::vector<int64_t> shape) {
  Node n;
  n.op = Op::kInput;
  n.dtype = dtype;
  n.shape = std::move(shape);
  n.name = std::move(name);
  return push(std::move(n));
}

NodeId Graph::weight(std::string name, const Tensor& value) {
  Node n;
  n.op = Op::kWeight;
  n.dtype = value.dtype();
  n.shape = value.shape();
  n.name = std::move(name);
  n.value = value;
  return push(std::move(n));
}

namespace {
Node make(Op op, std::vector<NodeId> inputs, std::vector<int64_t> shape) {
  Node n;
  n.op = op;
  n.inputs = std::move(inputs);
  n.shape = std::move(shape);
  n.dtype = DType::F32;
  return n;
}
}  // namespace

NodeId Graph::embed(NodeId table, NodeId ids) {
  return push(make(Op::kEmbed, {table, ids}, {node(ids).shape[0], node(table).shape[1]}));
}

NodeId Graph::rms_norm(NodeId x, float eps) {
  Node n = make(Op::kRmsNorm, {x}, node(x).shape);
  n.attrs.eps = eps;
  return push(std::move(n));
}

NodeId Graph::mul(NodeId x, NodeId w) {
  AG_CHECK(node(w).shape.back() == node(x).shape.back());
  return push(make(Op::kMul, {x, w}, node(x).shape));
}

NodeId Graph::add(NodeId a, NodeId b) {
  AG_CHECK(node(a).shape == node(b).shape);
  return push(make(Op::kAdd, {a, b}, node(a).shape));
}

NodeId Graph::matmul(NodeId x, NodeId w) {
  AG_CHECK(node(w).shape.size() == 2 && node(x).shape.back() == node(w).shape[1]);
  return push(make(Op::kMatMul, {x, w}, {node(x).shape[0], node(w).shape[0]}));
}

NodeId Graph::rope(NodeId x, NodeId positions, const Attrs& attrs) {
  AG_CHECK(node(x).shape.back() == static_cast<int64_t>(attrs.n_head) * attrs.head_dim);
  Node n = make(Op::kRope, {x, positions}, node(x).shape);
  n.attrs = attrs;
  return push(std::move(n));
}

NodeId Graph::attention(NodeId q, NodeId k, NodeId v, const Attrs& attrs) {
  Node n = make(Op::kAttention, {q, k, v}, node(q).shape);
  n.attrs = attrs;
  return push(std::move(n));
}

NodeId Graph::swiglu(NodeId gate, NodeId up) {
  AG_CHECK(node(gate).shape == node(up).shape);
  return push(make(Op::kSwiGLU, {gate, up}, node(gate).shape));
}

NodeId Graph::swiglu_paired(NodeId gate_up) {
  std::vector<int64_t> shape = node(gate_up).shape;
  AG_CHECK(!shape.empty() && shape.back() % (2 * kSwiGLUPairCols) == 0);
  shape.back() /= 2;
  return push(make(Op::kSwiGLUPaired, {gate_up}, std::move(shape)));
}

NodeId Graph::get_rows(NodeId x, NodeId ids) {
  return push(make(Op::kGetRows, {x, ids}, {node(ids).shape[0], node(x).shape.back()}));
}

NodeId Graph::find_input(const std::string& name) const {
  for (NodeId i = 0; i < size(); ++i) {
    if (nodes_[static_cast<size_t>(i)].op == Op::kInput && nodes_[static_cast<size_t>(i)].name == name) return i;
  }
  return -1;
}

std::string Graph::dump() const {
  std::string out;
  for (NodeId i = 0; i < size(); ++i) {
    const Node& n = nodes_[static_cast<size_t>(i)];
    out += "%" + std::to_string(i) + " = " + op_name(n.op) + "(";
    for (size_t j = 0; j < n.inputs.size(); ++j) {
      if (j) out += ", ";
      out += "%" + std::to_string(n.inputs[j]);
    }
    out += ") ";
    out += dtype_name(n.dtype);
    out += "[";
    for (size_t j = 0; j < n.shape.size(); ++j) {
      if (j) out += ", ";
      out += std::to_string(n.shape[j]);
    }
    out += "]";
    if (!n.name.empty()) out += " " + n.name;
    out += "\n";
  }
  if (const MemoryPlan* p = memory_plan()) {
    out += "memory plan: " + std::to_string(p->arena_bytes) + " bytes in one arena (" +
           std::to_string(p->naive_bytes) + " without sharing)\n";
  }
  out += "outputs:";
  for (NodeId o : outputs_) out += " %" + std::to_string(o);
  out += "\n";
  return out;
}

}  // namespace autoglm::graph
