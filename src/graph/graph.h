// Graph IR: the computation of one engine step as a list of nodes in topological order.
// Model builders emit a graph per step (a batch of tokens with positions and KV tables);
// passes (passes.h) rewrite it; the executor (executor.h) runs each node on a backend.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"

namespace autoglm::graph {

using NodeId = int32_t;

// Gate and up rows stored interleaved in one matrix (16 gate rows, then the same 16 rows of up,
// and so on) make the MLP's two weight matrices one stream of memory in decode. 16 is the CPU's
// packed row group (backends/cpu/packed.h), so each packed group is all gate or all up.
inline constexpr int64_t kSwiGLUPairCols = 16;

enum class Op : uint8_t {
  kInput,       // per-step data supplied by the caller (token ids, positions)
  kWeight,      // model constant; value set at build time (usually a view into the mmap)
  kEmbed,       // rows of a weight table: [n_vocab, d] x ids[n] -> [n, d] f32
  kRmsNorm,     // x / rms(x) over the last dim
  kRmsNormMul,  // fused rms_norm(x) * w (produced by the fuse pass)
  kMul,         // x * w, w broadcast over rows
  kAdd,         // a + b, same shape
  kMatMul,      // x[n, k] times weight[m, k]^T -> [n, m] (weights are stored row per output)
  kRope,        // rotary position embedding on [n, heads * head_dim] with positions input
  kAttention,   // q, k, v -> writes k, v to the paged cache, causal attention over the cache
  kSwiGLU,      // silu(gate) * up
  kGetRows,     // selects rows of an activation: x[n, d], ids[r] -> [r, d]
  kMatMulSwiGLU,  // fused silu(x . w_gate^T) * (x . w_up^T): one activation conversion, no intermediates;
                  // with one weight, its rows are gate and up interleaved as kSwiGLUPaired's columns
  kMatMulCat,   // x times weights w1..wN side by side -> [n, m1 + .. + mN] (merged Q/K/V projections)
  kSliceCols,   // columns [attrs.col_begin, col_begin + shape[-1]) of x (one projection of a kMatMulCat)
  kSwiGLUPaired,  // silu(gate) * up of x[n, 2m] whose columns alternate kSwiGLUPairCols gate, then as many up
  kMatMulAdd,   // fused x . w^T + r, r [n, m] (a residual add): each output added where it was computed
};
const char* op_name(Op op);

enum class RopeStyle : uint8_t {
  kAdjacent,  // rotate pairs (x[2i], x[2i+1]): llama.cpp "norm" rope, llama2.c, GGUF llama
  kNeox,      // rotate (x[i], x[i + d/2]): GPT-NeoX, Qwen2, Gemma, HF-layout Llama
};

struct Attrs {
  float eps = 0.0f;            // norms
  int32_t n_head = 0;          // rope / attention
  int32_t n_head_kv = 0;       // attention
  int32_t head_dim = 0;        // rope / attention
  int32_t n_rot = 0;           // rope: rotated dims per head (== head_dim for Llama)
  float rope_freq_base = 10000.0f;
  float rope_freq_scale = 1.0f;
  RopeStyle rope_style = RopeStyle::kAdjacent;
  float attn_scale = 0.0f;     // attention: softmax scale (1/sqrt(head_dim) by default)
  int32_t layer = -1;          // attention: which KV cache layer
  int64_t col_begin = 0;       // slice_cols: first column taken
};

struct Node {
  Op op = Op::kInput;
  std::vector<NodeId> inputs;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;  // outermost-first
  std::string name;
  Attrs attrs;
  Tensor value;  // kWeight: the constant; kInput: bound per step by the executor's caller
};

// Where each intermediate lives inside one arena: nodes whose lifetimes do not overlap share
// bytes. offsets[i] is -1 for inputs and weights (they bring their own memory).
struct MemoryPlan {
  std::vector<int64_t> offsets;
  size_t arena_bytes = 0;   // what the plan needs
  size_t naive_bytes = 0;   // what one buffer per node would need
};

class Graph {
 public:
  NodeId push(Node node);
  NodeId input(std::string name, DType dtype, std::vector<int64_t> shape);
  NodeId weight(std::string name, const Tensor& value);

  // Shape-inferring helpers used by model builders.
  NodeId embed(NodeId table, NodeId ids);
  NodeId rms_norm(NodeId x, float eps);
  NodeId mul(NodeId x, NodeId w);
  NodeId add(NodeId a, NodeId b);
  NodeId matmul(NodeId x, NodeId w);
  NodeId rope(NodeId x, NodeId positions, const Attrs& attrs);
  NodeId attention(NodeId q, NodeId k, NodeId v, const Attrs& attrs);
  NodeId swiglu(NodeId gate, NodeId up);
  NodeId swiglu_paired(NodeId gate_up);  // x[n, 2m] (kSwiGLUPaired) -> [n, m]
  NodeId get_rows(NodeId x, NodeId ids);

  void mark_output(NodeId id) {
    outputs_.push_back(id);
    revision_ = next_revision();
  }
  const std::vector<NodeId>& outputs() const { return outputs_; }

  const Node& node(NodeId id) const { return nodes_[static_cast<size_t>(id)]; }
  const std::vector<Node>& nodes() const { return nodes_; }
  int32_t size() const { return static_cast<int32_t>(nodes_.size()); }
  // Finds an input node by name (-1 if none).
  NodeId find_input(const std::string& name) const;

  // One line per node: "%12 = matmul(%10, %3) f32[5, 64] blk.0.attn_q".
  std::string dump() const;

  // Set by the memory-planning pass; any change to the nodes drops it.
  const MemoryPlan* memory_plan() const { return plan_.offsets.empty() ? nullptr : &plan_; }
  void set_memory_plan(MemoryPlan p) {
    plan_ = std::move(p);
    revision_ = next_revision();
  }

  // Names this graph's contents: a value no other graph state in the process has had, new on
  // construction, copy, move and every change (a graph changes only through push, mark_output
  // and set_memory_plan). The executor keeps a run's setup per revision (executor.h).
  uint64_t revision() const { return revision_; }

  Graph() = default;
  Graph(const Graph& o) : nodes_(o.nodes_), outputs_(o.outputs_), plan_(o.plan_) {}
  Graph(Graph&& o) noexcept : nodes_(std::move(o.nodes_)), outputs_(std::move(o.outputs_)), plan_(std::move(o.plan_)) {
    o.revision_ = next_revision();
  }
  Graph& operator=(const Graph& o);
  Graph& operator=(Graph&& o) noexcept;
  ~Graph() = default;

 private:
  static uint64_t next_revision();

  std::vector<Node> nodes_;
  std::vector<NodeId> outputs_;
  MemoryPlan plan_;
  uint64_t revision_ = next_revision();
};

}  // namespace autoglm::graph
