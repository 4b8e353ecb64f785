#include "graph/weight_traffic.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace autoglm::graph {
namespace {

using Range = std::pair<uintptr_t, uintptr_t>;  // [begin, end) of a weight's bytes

// Total length of the union of ranges (views may overlap: slices of one buffer).
size_t union_bytes(std::vector<Range> r) {
  std::sort(r.begin(), r.end());
  size_t total = 0;
  uintptr_t end = 0;
  for (const auto& [b, e] : r) {
    const uintptr_t from = std::max(b, end);
    if (e > from) total += e - from;
    end = std::max(end, e);
  }
  return total;
}

bool overlaps(const Range& a, const std::vector<Range>& rs) {
  return std::any_of(rs.begin(), rs.end(), [&](const Range& b) { return a.first < b.second && b.first < a.second; });
}

}  // namespace

WeightTraffic weight_traffic(const Graph& g) {
  struct Use {
    bool full = false;      // an op reads the whole tensor
    int64_t embed_rows = 0;  // rows looked up by embed ops
  };
  std::map<NodeId, Use> uses;
  for (const Node& n : g.nodes()) {
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const NodeId in = n.inputs[i];
      if (g.node(in).op != Op::kWeight) continue;
      Use& u = uses[in];
      if (n.op == Op::kEmbed && i == 0) {
        u.embed_rows += n.shape.empty() ? 0 : n.shape[0];
      } else {
        u.full = true;
      }
    }
  }

  WeightTraffic t;
  std::vector<Range> all, full;
  std::map<Range, std::pair<size_t, size_t>> lookups;  // embed-only tables: bytes of the rows read, table bytes
  for (NodeId id = 0; id < g.size(); ++id) {
    const Node& n = g.node(id);
    if (n.op != Op::kWeight) continue;
    const size_t bytes = n.value.nbytes();
    const auto u = uses.find(id);
    if (n.value.data() == nullptr) {  // no memory to tell apart (graphs built for tests)
      t.held += bytes;
      if (u != uses.end()) t.read += u->second.full ? bytes : std::min(bytes, static_cast<size_t>(u->second.embed_rows) * n.value.row_bytes());
      continue;
    }
    const auto b = reinterpret_cast<uintptr_t>(n.value.data());
    const Range r{b, b + bytes};
    all.push_back(r);
    if (u == uses.end()) continue;
    if (u->second.full) {
      full.push_back(r);
    } else {
      auto& [rows_bytes, table_bytes] = lookups[r];  // one table behind several nodes: rows add up
      rows_bytes += static_cast<size_t>(u->second.embed_rows) * n.value.row_bytes();
      table_bytes = bytes;
    }
  }
  t.held += union_bytes(all);
  t.read += union_bytes(full);
  // A table that is also read in full (tied output head) adds nothing for its lookups.
  for (const auto& [r, b] : lookups) {
    if (!overlaps(r, full)) t.read += std::min(b.first, b.second);
  }
  return t;
}

}  // namespace autoglm::graph
