// The lattice tables of the IQ1 / IQ2 / IQ3 formats (generated into iq_grids.cpp by
// scripts/gen_iq_grids.py from gguf-py). Entry i holds the grid values of index i, element k in
// byte k: IQ2 grids {8, 25, 43}; IQ3_XXS {4, 12, .., 52, 62}; IQ3_S odd 1..15; IQ1 int8 {-1, 0, 1}.
#pragma once

#include <cstdint>

namespace autoglm::quant {

extern const uint64_t kIQ2XXSGrid[256];
extern const uint64_t kIQ2XSGrid[512];
extern const uint64_t kIQ2SGrid[1024];
extern const uint32_t kIQ3XXSGrid[256];
extern const uint32_t kIQ3SGrid[512];
extern const uint64_t kIQ1SGrid[2048];

}  // namespace autoglm::quant
