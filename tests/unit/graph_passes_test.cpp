#include <gtest/gtest.h>

#include <random>
#include <utility>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/packed.h"
#include "graph/executor.h"
#include "graph/passes.h"
#include "quant/quant.h"

namespace autoglm::graph {
namespace {

Tensor random_f32(std::vector<int64_t> shape, uint32_t seed) {
  Tensor t = Tensor::empty(DType::F32, std::move(shape));
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  for (int64_t i = 0; i < t.numel(); ++i) t.data_as<float>()[i] = d(rng);
  return t;
}

int count(const Graph& g, Op op) {
  int n = 0;
  for (const Node& node : g.nodes()) n += node.op == op;
  return n;
}

// Every output of g and of its optimized form o, run on the CPU backend, as float vectors.
std::pair<std::vector<std::vector<float>>, std::vector<std::vector<float>>> run_both(const Graph& g, const Graph& o) {
  cpu::CpuBackend cpu;
  Executor ex({&cpu});
  ThreadPool pool(2);
  StepContext step;
  std::pair<std::vector<std::vector<float>>, std::vector<std::vector<float>>> out;
  auto a = ex.run(g, step, pool).value();
  for (const Tensor& t : a) out.first.emplace_back(t.data_as<float>(), t.data_as<float>() + t.numel());
  auto b = ex.run(o, step, pool).value();
  for (const Tensor& t : b) out.second.emplace_back(t.data_as<float>(), t.data_as<float>() + t.numel());
  return out;
}

// x -> norm*w1 -> matmul -> add(x) ; plus a dead branch.
Graph small_graph() {
  Graph g;
  auto x = g.input("x", DType::F32, {3, 16});
  x = g.weight("x_value", random_f32({3, 16}, 1));
  auto h = g.mul(g.rms_norm(x, 1e-5f), g.weight("w1", random_f32({16}, 2)));
  auto y = g.add(x, g.matmul(h, g.weight("m", random_f32({16, 16}, 3))));
  auto dead = g.matmul(x, g.weight("dead_w", random_f32({8, 16}, 4)));
  (void)dead;
  auto z = g.mul(g.rms_norm(y, 1e-5f), g.weight("w2", random_f32({16}, 5)));
  g.mark_output(z);
  return g;
}

TEST(GraphPasses, DeadNodesAreDropped) {
  Graph g = small_graph();
  Graph d = eliminate_dead_nodes(g);
  EXPECT_LT(d.size(), g.size());
  for (const Node& n : d.nodes()) EXPECT_NE(n.name, "dead_w");
  // The unbound input "x" is unused too.
  EXPECT_EQ(d.find_input("x"), -1);
}

TEST(GraphPasses, FusionReplacesNormMulPairs) {
  Graph o = optimize(small_graph());
  EXPECT_EQ(count(o, Op::kRmsNorm), 0);
  EXPECT_EQ(count(o, Op::kMul), 0);
  EXPECT_EQ(count(o, Op::kRmsNormMul), 2);
  EXPECT_NE(o.dump().find("rms_norm_mul"), std::string::npos);
}

TEST(GraphPasses, OptimizedGraphComputesTheSameValues) {
  Graph g = small_graph();
  Graph o = optimize(g);
  cpu::CpuBackend cpu;
  Executor ex({&cpu});
  ThreadPool pool(2);
  StepContext step;
  // The unoptimized graph still has its unbound input; drop it with DCE only (no fusion).
  Graph plain = eliminate_dead_nodes(g);
  auto a = ex.run(plain, step, pool);
  auto b = ex.run(o, step, pool);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->at(0).numel(), b->at(0).numel());
  for (int64_t i = 0; i < a->at(0).numel(); ++i) EXPECT_EQ(a->at(0).data_as<float>()[i], b->at(0).data_as<float>()[i]);
}

TEST(GraphPasses, UnboundInputIsAnError) {
  Graph g;
  auto x = g.input("x", DType::F32, {1, 4});
  g.mark_output(g.rms_norm(x, 1e-5f));
  cpu::CpuBackend cpu;
  Executor ex({&cpu});
  ThreadPool pool(1);
  StepContext step;
  EXPECT_EQ(ex.run(g, step, pool).status().code(), StatusCode::kInternal);
}

TEST(GraphPasses, BindingsSupplyInputsPerRun) {
  // One graph, run twice with different bound inputs (as a cached decode plan is): each run
  // sees its own values and the graph's input node stays unbound; a binding of a non-input
  // node is an error.
  Graph g;
  auto x = g.input("x", DType::F32, {1, 4});
  auto w = g.weight("w", random_f32({4}, 61));
  g.mark_output(g.mul(x, w));
  cpu::CpuBackend cpu;
  Executor ex({&cpu});
  ThreadPool pool(1);
  StepContext step;
  for (uint32_t seed : {62u, 63u}) {
    const Tensor xv = random_f32({1, 4}, seed);
    auto out = ex.run(g, step, pool, {{x, xv}});
    ASSERT_TRUE(out.ok());
    for (int64_t i = 0; i < 4; ++i) {
      EXPECT_EQ(out->at(0).data_as<float>()[i], xv.data_as<float>()[i] * g.node(w).value.data_as<float>()[i]);
    }
  }
  EXPECT_FALSE(g.node(x).value.defined());
  EXPECT_EQ(ex.run(g, step, pool, {{w, random_f32({4}, 64)}}).status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace autoglm::graph

namespace autoglm::graph {
namespace {

TEST(MemoryPlan, LiveBuffersNeverOverlapAndSharingSavesMemory) {
  Graph g = optimize(small_graph());
  // A longer chain: many intermediates, most short-lived.
  Graph c;
  auto x = c.weight("x", random_f32({4, 64}, 11));
  auto w = c.weight("w", random_f32({64, 64}, 12));
  for (int i = 0; i < 20; ++i) x = c.add(x, c.matmul(c.rms_norm(x, 1e-5f), w));
  c.mark_output(x);
  for (const Graph* gp : {&g, &c}) {
    const MemoryPlan p = plan_memory(*gp);
    std::vector<int32_t> last(static_cast<size_t>(gp->size()), -1);
    for (NodeId i = 0; i < gp->size(); ++i)
      for (NodeId in : gp->node(i).inputs) last[size_t(in)] = i;
    for (NodeId o : gp->outputs()) last[size_t(o)] = gp->size();
    auto bytes = [&](NodeId i) { return Tensor::view_of(gp->node(i).dtype, gp->node(i).shape, nullptr).nbytes(); };
    for (NodeId a = 0; a < gp->size(); ++a) {
      if (p.offsets[size_t(a)] < 0) continue;
      EXPECT_LE(size_t(p.offsets[size_t(a)]) + bytes(a), p.arena_bytes);
      for (NodeId b = a + 1; b < gp->size(); ++b) {
        if (p.offsets[size_t(b)] < 0 || last[size_t(a)] < b) continue;  // a is dead before b is written
        const int64_t a0 = p.offsets[size_t(a)], a1 = a0 + int64_t(bytes(a));
        const int64_t b0 = p.offsets[size_t(b)], b1 = b0 + int64_t(bytes(b));
        EXPECT_TRUE(a1 <= b0 || b1 <= a0) << "nodes " << a << " and " << b << " overlap while both live";
      }
    }
  }
  const MemoryPlan pc = plan_memory(c);
  EXPECT_LT(pc.arena_bytes * 5, pc.naive_bytes);  // a chain needs a few buffers, not one per node
}

TEST(MemoryPlan, ArenaExecutionMatchesPerNodeBuffers) {
  Graph c;
  auto x = c.weight("x", random_f32({3, 48}, 21));
  auto w = c.weight("w", random_f32({48, 48}, 22));
  for (int i = 0; i < 8; ++i) x = c.add(x, c.swiglu(c.matmul(x, w), c.matmul(c.rms_norm(x, 1e-5f), w)));
  c.mark_output(x);
  Graph planned = c;
  planned.set_memory_plan(plan_memory(c));
  cpu::CpuBackend cpu;
  Executor ex({&cpu});
  ThreadPool pool(2);
  StepContext step;
  auto a = ex.run(c, step, pool).value();
  auto b = ex.run(planned, step, pool).value();
  ASSERT_EQ(a[0].numel(), b[0].numel());
  for (int64_t i = 0; i < a[0].numel(); ++i) ASSERT_EQ(a[0].data_as<float>()[i], b[0].data_as<float>()[i]);
  EXPECT_EQ(ex.last_peak_bytes(), planned.memory_plan()->arena_bytes);
}

// The executor keeps a planned graph's run setup per Graph::revision(): a graph changed after a
// run, a copy, a larger graph growing the arena, and then the first graph again must all give
// what a fresh executor gives.
TEST(MemoryPlan, KeptRunSetupFollowsGraphChanges) {
  auto planned = [](Graph g) {
    g.set_memory_plan(plan_memory(g));
    return g;
  };
  auto chain = [](int layers, uint32_t seed) {
    Graph g;
    auto x = g.weight("x", random_f32({3, 48}, seed));
    auto w = g.weight("w", random_f32({48, 48}, seed + 1));
    for (int i = 0; i < layers; ++i) x = g.add(x, g.matmul(g.rms_norm(x, 1e-5f), w));
    g.mark_output(x);
    return g;
  };
  auto values = [](const std::vector<Tensor>& outs) {
    std::vector<std::vector<float>> r;
    for (const Tensor& t : outs) r.emplace_back(t.data_as<float>(), t.data_as<float>() + t.numel());
    return r;
  };
  auto fresh = [&](const Graph& g) {
    cpu::CpuBackend cpu;
    Executor ex({&cpu});
    ThreadPool pool(2);
    StepContext step;
    return values(ex.run(g, step, pool).value());
  };
  cpu::CpuBackend cpu;
  Executor ex({&cpu});
  ThreadPool pool(2);
  StepContext step;
  auto kept = [&](const Graph& g) { return values(ex.run(g, step, pool).value()); };

  Graph a = planned(chain(3, 51));
  const auto a_out = fresh(a);
  EXPECT_EQ(kept(a), a_out);
  EXPECT_EQ(kept(a), a_out);  // from the kept setup
  const uint64_t before = a.revision();
  a.mark_output(a.add(a.outputs()[0], a.outputs()[0]));  // changed after a run
  EXPECT_NE(a.revision(), before);
  a = planned(a);
  EXPECT_EQ(kept(a), fresh(a));
  const Graph copy = a;
  EXPECT_EQ(kept(copy), fresh(a));
  Graph big = planned(chain(12, 61));  // more arena than a's plan
  Graph wide;
  auto x = wide.weight("x", random_f32({64, 256}, 71));
  wide.mark_output(wide.matmul(x, wide.weight("w", random_f32({256, 256}, 72))));
  wide = planned(wide);
  EXPECT_EQ(kept(big), fresh(big));
  EXPECT_EQ(kept(wide), fresh(wide));  // grows the arena: every kept setup is dropped
  EXPECT_EQ(kept(a), fresh(a));
  EXPECT_EQ(kept(big), fresh(big));
}

}  // namespace
}  // namespace autoglm::graph

namespace autoglm::graph {
namespace {

TEST(GraphPasses, GateUpSwiGLUFusionIsExact) {
  for (DType wt : {DType::F32, DType::Q8_0, DType::Q4_K}) {
    Graph g;
    auto x = g.weight("x", random_f32({5, 256}, 31));
    auto to_type = [&](Tensor f) {
      if (wt == DType::F32) return f;
      Tensor q = Tensor::empty(wt, f.shape());
      for (int64_t r = 0; r < f.rows(); ++r) quant::quantize_row(wt, f.data_as<float>() + r * 256, q.row_ptr(r), 256);
      return q;
    };
    auto wg = g.weight("wg", to_type(random_f32({40, 256}, 32)));
    auto wu = g.weight("wu", to_type(random_f32({40, 256}, 33)));
    g.mark_output(g.swiglu(g.matmul(x, wg), g.matmul(x, wu)));
    Graph o = optimize(g);
    EXPECT_EQ(count(o, Op::kMatMulSwiGLU), 1);
    EXPECT_EQ(count(o, Op::kMatMul), 0);
    const auto [a, b] = run_both(g, o);
    EXPECT_EQ(a, b) << dtype_name(wt);
  }
}

TEST(GraphPasses, PairedSwiGLUFusionIsExact) {
  // swiglu_paired(matmul(x, w_gate_up)) -> matmul_swiglu(x, w_gate_up), on a packed pair and
  // on plain f32 rows; a product with a second consumer is left alone.
  for (bool packed : {false, true}) {
    Graph g;
    auto x = g.weight("x", random_f32({5, 256}, 41));
    Tensor wf = random_f32({64, 256}, 42);
    Tensor w = wf;
    if (packed) {
      Tensor q = Tensor::empty(DType::Q8_0, wf.shape());
      for (int64_t r = 0; r < wf.rows(); ++r) quant::quantize_row(DType::Q8_0, wf.data_as<float>() + r * 256, q.row_ptr(r), 256);
      if (!cpu::should_pack(q)) continue;  // no packed kernels on this CPU
      w = cpu::pack_matrix(q);
    }
    g.mark_output(g.swiglu_paired(g.matmul(x, g.weight("w_gate_up", w))));
    Graph o = optimize(g);
    EXPECT_EQ(count(o, Op::kMatMulSwiGLU), 1);
    EXPECT_EQ(count(o, Op::kMatMul), 0);
    EXPECT_EQ(count(o, Op::kSwiGLUPaired), 0);
    const auto [a, b] = run_both(g, o);
    ASSERT_EQ(b[0].size(), size_t{5 * 32});
    EXPECT_EQ(a, b) << packed;
  }
  Graph g;
  auto x = g.weight("x", random_f32({2, 64}, 43));
  auto both = g.matmul(x, g.weight("w", random_f32({64, 64}, 44)));
  g.mark_output(g.swiglu_paired(both));
  g.mark_output(both);
  EXPECT_EQ(count(optimize(g), Op::kSwiGLUPaired), 1);
}

TEST(GraphPasses, ParallelMatmulsMergeExactly) {
  // Q/K/V-like projections of one activation (row counts multiples of 16 so Q8_0/Q4_0 are
  // also tried in the packed layout), a fourth matmul of another type that must stay apart,
  // and a consumer between them so the weights come after the first matmul in the order.
  for (DType wt : {DType::F32, DType::Q8_0, DType::Q4_0, DType::Q4_K}) {
    for (bool packed : {false, true}) {
      if (packed && wt != DType::Q8_0 && wt != DType::Q4_0) continue;
      Graph g;
      auto x = g.weight("x", random_f32({7, 256}, 41));
      auto to_type = [&](Tensor f) {
        if (wt == DType::F32) return f;
        Tensor q = Tensor::empty(wt, f.shape());
        for (int64_t r = 0; r < f.rows(); ++r) quant::quantize_row(wt, f.data_as<float>() + r * 256, q.row_ptr(r), 256);
        return packed ? cpu::pack_matrix(q) : q;
      };
      auto q = g.matmul(x, g.weight("wq", to_type(random_f32({64, 256}, 42))));
      auto q2 = g.add(q, q);
      auto k = g.matmul(x, g.weight("wk", to_type(random_f32({32, 256}, 43))));
      auto v = g.matmul(x, g.weight("wv", to_type(random_f32({32, 256}, 44))));
      auto other = g.matmul(x, g.weight("wo", random_f32({16, 256}, 45)));  // f32: merges only if wt is f32
      g.mark_output(q2);
      g.mark_output(k);
      g.mark_output(v);
      g.mark_output(other);
      Graph o = optimize(g);
      EXPECT_EQ(count(o, Op::kMatMulCat), 1) << dtype_name(wt);
      EXPECT_EQ(count(o, Op::kSliceCols), wt == DType::F32 ? 4 : 3) << dtype_name(wt);
      EXPECT_EQ(count(o, Op::kMatMul), wt == DType::F32 ? 0 : 1) << dtype_name(wt);
      const auto [a, b] = run_both(g, o);
      EXPECT_EQ(a, b) << dtype_name(wt);
    }
  }
}

TEST(GraphPasses, MatMulAddFusionIsExact) {
  // add(r, matmul(x, w)) and add(matmul(x, w), r) -> matmul_add(x, w, r), for one token and
  // several, on f32 rows, Q8_0 rows and packed Q4_0; the same bits as the separate add.
  for (DType wt : {DType::F32, DType::Q8_0, DType::Q4_0}) {
    for (bool packed : {false, true}) {
      if (packed && wt == DType::F32) continue;
      for (int64_t n : {1, 5}) {
        for (bool product_first : {false, true}) {
          Graph g;
          auto x = g.weight("x", random_f32({n, 256}, 51));
          auto r = g.weight("r", random_f32({n, 48}, 52));
          Tensor w = random_f32({48, 256}, 53);
          if (wt != DType::F32) {
            Tensor q = Tensor::empty(wt, w.shape());
            for (int64_t i = 0; i < w.rows(); ++i) quant::quantize_row(wt, w.data_as<float>() + i * 256, q.row_ptr(i), 256);
            if (packed && !cpu::should_pack(q)) continue;  // no packed kernels on this CPU
            w = packed ? cpu::pack_matrix(q) : q;
          }
          auto prod = g.matmul(x, g.weight("w", w));
          g.mark_output(product_first ? g.add(prod, r) : g.add(r, prod));
          Graph o = optimize(g);
          EXPECT_EQ(count(o, Op::kMatMulAdd), 1);
          EXPECT_EQ(count(o, Op::kAdd), 0);
          EXPECT_EQ(count(o, Op::kMatMul), 0);
          const auto [a, b] = run_both(g, o);
          EXPECT_EQ(a, b) << dtype_name(wt) << " packed " << packed << " n " << n;
        }
      }
    }
  }
  // A product with another consumer, or added to itself, stays as it was.
  Graph g;
  auto x = g.weight("x", random_f32({2, 64}, 54));
  auto prod = g.matmul(x, g.weight("w", random_f32({64, 64}, 55)));
  g.mark_output(g.add(x, prod));
  g.mark_output(prod);
  auto twice = g.matmul(x, g.weight("w2", random_f32({64, 64}, 56)));
  g.mark_output(g.add(twice, twice));
  Graph o = optimize(g);
  EXPECT_EQ(count(o, Op::kMatMulAdd), 0);
  EXPECT_EQ(count(o, Op::kAdd), 2);
}

}  // namespace
}  // namespace autoglm::graph
