// Read bandwidth of this machine, as decode's roofline is measured against it.
#pragma once

namespace autoglm {

// Read bandwidth in GB/s: `threads` threads each sum their slice of a 512 MiB buffer (allocated
// as packed weights are, core/large_buffer.h, so on huge pages where they are); the best
// of 10 timed passes (two untimed ones touch the pages), alternating the plain and (where the
// CPU has AVX-512) the wide read, so the roofline is not set by a probe that keeps fewer loads
// in flight than the decode it is compared with.
double measure_read_bandwidth(int threads);

}  // namespace autoglm
