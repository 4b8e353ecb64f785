#include "backends/cpu/cpu_backend.h"

#include <vector>

#include "backends/cpu/kernels.h"
#include "quant/quant.h"

namespace autoglm::cpu {

using graph::Op;

bool CpuBackend::supports(const graph::Node& node) const {
  return node.op != Op::kInput && node.op != Op::kWeight;
}

Status CpuBackend::execute(const graph::Graph& g, graph::NodeId id, graph::ExecState& st) {
  const graph::Node& n = g.node(id);
  auto in = [&](size_t i) -> const Tensor& { return st.values[static_cast<size_t>(n.inputs[i])]; };
  Tensor& out = st.values[static_cast<size_t>(id)];
  ThreadPool& pool = *st.pool;
  switch (n.op) {
    case Op::kEmbed: return embed(in(0), in(1), out, pool);
    case Op::kRmsNorm: rms_norm(in(0), nullptr, n.attrs.eps, out, pool); return Status::OK();
    case Op::kRmsNormMul: rms_norm(in(0), &in(1), n.attrs.eps, out, pool); return Status::OK();
    case Op::kMul: mul_rows(in(0), in(1), out); return Status::OK();
    case Op::kAdd: add(in(0), in(1), out); return Status::OK();
    case Op::kMatMul: return matmul(in(0), in(1), out, pool);
    case Op::kMatMulAdd: return matmul(in(0), in(1), out, pool, &in(2));
    case Op::kRope: rope(in(0), in(1), n.attrs, out, pool); return Status::OK();
    case Op::kAttention: return attention(in(0), in(1), in(2), n.attrs, *st.step, out, pool);
    case Op::kSwiGLU: swiglu(in(0), in(1), out, pool); return Status::OK();
    case Op::kGetRows: return get_rows(in(0), in(1), out);
    case Op::kMatMulSwiGLU:
      return n.inputs.size() == 2 ? matmul_swiglu_paired(in(0), in(1), out, pool)
                                  : matmul_swiglu(in(0), in(1), in(2), out, pool);
    case Op::kSwiGLUPaired: swiglu_paired(in(0), out, pool); return Status::OK();
    case Op::kMatMulCat: {
      std::vector<const Tensor*> ws;
      for (size_t i = 1; i < n.inputs.size(); ++i) ws.push_back(&in(i));
      return matmul_cat(in(0), ws, out, pool);
    }
    case Op::kSliceCols: slice_cols(in(0), n.attrs.col_begin, out, *st.pool); return Status::OK();
    case Op::kInput:
    case Op::kWeight: break;
  }
  return Internal(std::string("cpu backend cannot execute ") + graph::op_name(n.op));
}

}  // namespace autoglm::cpu
