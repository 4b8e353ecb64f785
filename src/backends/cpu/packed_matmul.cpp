// matmul and the fused gate/up+SwiGLU on 16-row packed weights (packed.h): activations are
// prepared once per call, then each thread takes whole row groups and runs the ISA's packed
// kernel over them, all tokens at once or, in prefill, 16 tokens at a time over L2-sized passes
// of its groups (for_group_token_blocks; the kernel tiles tokens in registers or AMX tiles).
#include <algorithm>
#include <cmath>
#include <utility>
#include <string>
#include <vector>

#include "backends/cpu/packed.h"
#include "core/check.h"
#include "graph/graph.h"

namespace autoglm::cpu {
namespace {

constexpr int64_t kTokenBlock = 16;        // amx::kTileTokens, two VNNI tiles
// With a pair kernel (the float layouts): two of its 12-token tiles. One thread, k 2048, F16,
// GMAC/s: blocks of 16 (tiles 12 + 4) 87-88, of 24 93-94; tiles of 8 in blocks of 16 87-91.
constexpr int64_t kPairTokenBlock = 24;
constexpr size_t kPassBytes = 512 * 1024;  // a quarter of the Intel host's L2

int64_t groups_per_pass(size_t group_bytes) {
  return std::max<int64_t>(1, static_cast<int64_t>(kPassBytes / group_bytes));
}

// Row groups [g0, g1) against n tokens through f. Past one block of tokens (prefill)
// the groups go in passes whose weights stay in L2, and each pass takes the tokens a block at a
// time, so a block's activations stay in L1 across the pass's groups instead of every group
// sweeping all n tokens' activations through L2 (the AMX tile loads stall on L2 reads). pp512 t/s,
// llama3.2-1b, against one group at a time over all tokens (scripts/bench_ab.sh, medians of 2):
// Q4_K 418 / 309, Q4_0 400 / 357, Q8_0 380 / 349, Q4_K_M 407 / 373; without AMX Q4_K 303 / 289;
// blocks of 32 tokens 370, of 64 322 (Q4_K); passes of 256 KB / 1 MB / unbounded 394 / 395 / 401.
//
// f(g, count, t0, nt) takes groups g .. g + count - 1 against tokens [t0, t0 + nt): count is 1,
// or 2 where `pairs` (PackedCall::two_groups) and two are left in the pass; `block` is
// token_block(call).
template <class F>
void for_group_token_blocks(int64_t g0, int64_t g1, int64_t n, size_t group_bytes, int64_t block, bool pairs,
                            F&& f) {
  const auto groups = [&](int64_t p0, int64_t p1, int64_t t0, int64_t nt) {
    for (int64_t g = p0; g < p1;) {
      const int64_t count = pairs && g + 1 < p1 ? 2 : 1;
      f(g, count, t0, nt);
      g += count;
    }
  };
  if (n <= kTokenBlock) {
    groups(g0, g1, 0, n);
    return;
  }
  const int64_t per_pass = groups_per_pass(group_bytes);
  for (int64_t p0 = g0; p0 < g1; p0 += per_pass) {
    const int64_t p1 = std::min(g1, p0 + per_pass);
    for (int64_t t0 = 0; t0 < n; t0 += block) groups(p0, p1, t0, std::min(block, n - t0));
  }
}

int64_t token_block(const PackedCall& call) { return call.pair != nullptr ? kPairTokenBlock : kTokenBlock; }

// Row groups per thread chunk (parallel_for's unit of claiming and stealing) of an op with
// `groups` row groups: a group of 16 rows is 16 * k multiply-adds per token; past one token
// block, up to a whole pass, so the threads' claims near an op's end (which shrink to one chunk)
// still cut the groups into full passes - but at least 4 chunks per thread, or a small matrix
// (smollm2's 576 x 576) would be one chunk on one thread.
int64_t group_grain(int64_t n, int64_t k, size_t group_bytes, int64_t groups, int threads) {
  const int64_t g = grain_for(kPackRows * k * n);
  if (n <= kTokenBlock) return g;
  return std::max(g, std::min(groups_per_pass(group_bytes), groups / (4 * static_cast<int64_t>(threads))));
}

}  // namespace

Result<PackedCall> begin_packed_call(const Tensor& x, DType packed, ThreadPool& pool) {
  thread_local PackedActivations scratch;
  AG_RETURN_IF_ERROR(prepare_packed_activations(x, scratch, pool, packed));
  PackedCall c;
  c.act = &scratch;
  c.gemm = packed_gemm_active(packed);
  c.group_bytes = packed_group_bytes(packed, x.cols());
  // The pair kernel wherever the type has one, for every token count: in prefill each broadcast
  // feeds two fmas; in decode and small batches the two groups' chains hide the fma latency a lone
  // group's tile exposes (bench_kernels --stream --tokens 1 / 2 / 4, f16: 89-92 / 79-81 / 75-78%
  // of the read probe one group at a time, 93-96 / 91-96 / 88-91% in pairs).
  c.pair = packed_pair_gemm_active(packed);
  return c;
}

Status matmul_packed(const Tensor& x, const Tensor& w, Tensor& y, ThreadPool& pool, const Tensor* residual) {
  const int64_t n = x.rows(), k = x.cols(), m = w.rows();
  AG_CHECK(is_packed_type(w.dtype()) && w.cols() == k && y.rows() == n && y.cols() == m && m % kPackRows == 0);
  AG_CHECK(residual == nullptr || (residual->dtype() == DType::F32 && residual->rows() == n && residual->cols() == m));
  const float* rf = residual != nullptr ? residual->data_as<float>() : nullptr;
  AG_ASSIGN_OR_RETURN(const PackedCall call, begin_packed_call(x, w.dtype(), pool));
  float* yf = y.data_as<float>();
  pool.parallel_for(m / kPackRows, [&](int64_t g0, int64_t g1) {
    for_group_token_blocks(g0, g1, n, call.group_bytes, token_block(call), call.pair != nullptr,
                           [&](int64_t g, int64_t count, int64_t t0, int64_t nt) {
      float* out = yf + t0 * m + g * kPackRows;
      if (count == 2) {
        call.two_groups(w, g, t0, nt, out, out + kPackRows, m);
      } else {
        call.group(w, g, t0, nt, out, m);
      }
    });
    if (rf != nullptr) add_residual(yf, rf, m, n, g0 * kPackRows, g1 * kPackRows);
  }, group_grain(n, k, call.group_bytes, m / kPackRows, pool.size()));
  return Status::OK();
}

namespace {

// silu(gate) * up over m outputs, where gate_of(g) / up_of(g) name the packed group (matrix,
// group index) holding row group g of each.
template <typename GateOf, typename UpOf>
Status swiglu_groups(const Tensor& x, DType packed, int64_t m, GateOf gate_of, UpOf up_of, Tensor& y,
                     ThreadPool& pool) {
  const int64_t n = x.rows(), k = x.cols();
  AG_ASSIGN_OR_RETURN(const PackedCall call, begin_packed_call(x, packed, pool));
  float* yf = y.data_as<float>();
  constexpr int64_t kTok = 32;  // tokens per gate/up scratch tile
  pool.parallel_for(m / kPackRows, [&](int64_t g0, int64_t g1) {
    float gate[kTok * kPackRows], upv[kTok * kPackRows];
    for_group_token_blocks(g0, g1, n, 2 * call.group_bytes, token_block(call), false,
                           [&](int64_t g, int64_t, int64_t b0, int64_t nb) {
      const auto [wg, gg] = gate_of(g);
      const auto [wu, gu] = up_of(g);
      for (int64_t t0 = b0; t0 < b0 + nb; t0 += kTok) {
        const int64_t nt = std::min(kTok, b0 + nb - t0);
        if (wg == wu && gu == gg + 1) {  // the paired layout: gate's group, then up's
          call.two_groups(*wg, gg, t0, nt, gate, upv, kPackRows);
        } else {
          call.group(*wg, gg, t0, nt, gate, kPackRows);
          call.group(*wu, gu, t0, nt, upv, kPackRows);
        }
        for (int64_t t = 0; t < nt; ++t) {
          silu_mul(gate + t * kPackRows, upv + t * kPackRows, yf + (t0 + t) * m + g * kPackRows, kPackRows);
        }
      }
    });
  }, group_grain(2 * n, k, 2 * call.group_bytes, m / kPackRows, pool.size()));
  return Status::OK();
}

}  // namespace

Status matmul_swiglu_packed(const Tensor& x, const Tensor& w_gate, const Tensor& w_up, Tensor& y, ThreadPool& pool) {
  const int64_t n = x.rows(), k = x.cols(), m = w_gate.rows();
  AG_CHECK(is_packed_type(w_gate.dtype()) && w_gate.dtype() == w_up.dtype() && w_up.rows() == m && y.rows() == n &&
           y.cols() == m && m % kPackRows == 0 && w_gate.cols() == k && w_up.cols() == k);
  return swiglu_groups(
      x, w_gate.dtype(), m, [&](int64_t g) { return std::pair{&w_gate, g}; },
      [&](int64_t g) { return std::pair{&w_up, g}; }, y, pool);
}

Status matmul_swiglu_paired_packed(const Tensor& x, const Tensor& w_gate_up, Tensor& y, ThreadPool& pool) {
  static_assert(graph::kSwiGLUPairCols == kPackRows, "a packed group must be all gate or all up rows");
  const int64_t n = x.rows(), k = x.cols(), m = w_gate_up.rows() / 2;
  AG_CHECK(is_packed_type(w_gate_up.dtype()) && w_gate_up.rows() % (2 * kPackRows) == 0 && w_gate_up.cols() == k &&
           y.rows() == n && y.cols() == m);
  // Group 2g is gate rows 16g.., group 2g + 1 the same rows of up: one stream through memory.
  return swiglu_groups(
      x, w_gate_up.dtype(), m, [&](int64_t g) { return std::pair{&w_gate_up, 2 * g}; },
      [&](int64_t g) { return std::pair{&w_gate_up, 2 * g + 1}; }, y, pool);
}

}  // namespace autoglm::cpu
