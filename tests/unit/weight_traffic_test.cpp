// graph::weight_traffic: the weight bytes a step holds and reads (the roofline byte count).
#include <gtest/gtest.h>

#include "graph/weight_traffic.h"

namespace autoglm::graph {
namespace {

// A decode-shaped graph: embed one token, one matmul, logits through `head`.
Graph decode_graph(const Tensor& table, const Tensor& mid, const Tensor& head, int64_t n_tokens) {
  Graph g;
  const auto ids = g.input("tokens", DType::I32, {n_tokens});
  auto x = g.embed(g.weight("token_embd", table), ids);
  x = g.matmul(x, g.weight("mid", mid));
  g.mark_output(g.matmul(x, g.weight("output", head)));
  return g;
}

TEST(WeightTraffic, UntiedTableCountsOneRowPerToken) {
  const Tensor table = Tensor::empty(DType::F32, {100, 8});
  const Tensor mid = Tensor::empty(DType::F32, {8, 8});
  const Tensor head = Tensor::empty(DType::F32, {100, 8});
  const WeightTraffic t = weight_traffic(decode_graph(table, mid, head, 1));
  EXPECT_EQ(t.held, table.nbytes() + mid.nbytes() + head.nbytes());
  EXPECT_EQ(t.read, table.row_bytes() + mid.nbytes() + head.nbytes());
  EXPECT_EQ(weight_traffic(decode_graph(table, mid, head, 3)).read, 3 * table.row_bytes() + mid.nbytes() + head.nbytes());
}

TEST(WeightTraffic, TiedTableCountsOnce) {
  const Tensor table = Tensor::empty(DType::F32, {100, 8});
  const Tensor mid = Tensor::empty(DType::F32, {8, 8});
  // The same memory behind two weight nodes, as a tied model builds it.
  const WeightTraffic t = weight_traffic(decode_graph(table, mid, table, 1));
  EXPECT_EQ(t.held, table.nbytes() + mid.nbytes());
  EXPECT_EQ(t.read, table.nbytes() + mid.nbytes());
}

TEST(WeightTraffic, OverlappingViewsAndUnusedWeights) {
  const Tensor buf = Tensor::empty(DType::F32, {16, 8});
  Graph g;
  const auto x = g.input("x", DType::F32, {1, 8});
  // Rows [0, 12) and [4, 16) of one buffer: 16 distinct rows.
  const auto a = g.matmul(x, g.weight("a", buf.slice_rows(0, 12)));
  const auto b = g.matmul(x, g.weight("b", buf.slice_rows(4, 16)));
  g.mark_output(a);
  g.mark_output(b);
  const Tensor unused = Tensor::empty(DType::F32, {4, 8});
  g.weight("unused", unused);
  const WeightTraffic t = weight_traffic(g);
  EXPECT_EQ(t.held, buf.nbytes() + unused.nbytes());
  EXPECT_EQ(t.read, buf.nbytes());
}

TEST(WeightTraffic, LookupsOfOneTableBehindTwoNodesAddUp) {
  const Tensor table = Tensor::empty(DType::F32, {100, 8});
  Graph g;
  const auto a = g.embed(g.weight("t1", table), g.input("a", DType::I32, {2}));
  const auto b = g.embed(g.weight("t2", table), g.input("b", DType::I32, {3}));
  g.mark_output(g.add(a, g.embed(g.weight("t3", table), g.input("c", DType::I32, {2}))));
  g.mark_output(b);
  const WeightTraffic t = weight_traffic(g);
  EXPECT_EQ(t.held, table.nbytes());
  EXPECT_EQ(t.read, 7 * table.row_bytes());
  // Never more than the table.
  Graph big;
  big.mark_output(big.embed(big.weight("t", table), big.input("ids", DType::I32, {1000})));
  EXPECT_EQ(weight_traffic(big).read, table.nbytes());
}

TEST(WeightTraffic, EmptyGraph) {
  const WeightTraffic t = weight_traffic(Graph{});
  EXPECT_EQ(t.held, 0u);
  EXPECT_EQ(t.read, 0u);
}

}  // namespace
}  // namespace autoglm::graph
