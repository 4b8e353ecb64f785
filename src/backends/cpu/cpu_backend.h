// The CPU backend: runs every op of the graph IR with the kernels in kernels.h on the
// shared thread pool. It is also the fallback for nodes no accelerator supports.
#pragma once

#include "graph/executor.h"

namespace autoglm::cpu {

class CpuBackend final : public graph::Backend {
 public:
  std::string_view name() const override { return "cpu"; }
  bool supports(const graph::Node& node) const override;
  Status execute(const graph::Graph& g, graph::NodeId id, graph::ExecState& state) override;
};

}  // namespace autoglm::cpu
