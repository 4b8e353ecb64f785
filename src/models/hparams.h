// Reading and validating hyper-parameters from GGUF metadata ("{arch}.block_count" etc.).
#pragma once

#include <string>

#include "autoglm/status.h"
#include "models/model.h"

namespace autoglm {

// Fills the Llama-style keys shared by most decoder-only architectures and checks that they
// are mutually consistent (heads divide the width, kv heads divide heads, sane ranges).
Result<ModelHParams> read_decoder_hparams(const gguf::File& f, const std::string& arch);

}  // namespace autoglm
