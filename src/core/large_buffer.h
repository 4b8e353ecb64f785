// Memory for large buffers that are streamed over and over: packed weights, the activation
// arena, the KV cache, the read probe.
#pragma once

#include <cstddef>
#include <memory>

namespace autoglm {

// `bytes` of zeroed memory, 64-byte aligned; nullptr when the system has none. From 4 MiB up the
// block is 2 MiB-aligned and advised onto transparent huge pages (Linux, THP "madvise" or
// "always"): decode streams every weight once per token, and on 4 KiB pages that stream walks
// the page table every 64 cache lines. AUTOGLM_HUGE_PAGES=0 keeps every buffer on base pages
// (for A/B measurements, or where compaction stalls matter more than speed).
std::shared_ptr<void> allocate_large_buffer(size_t bytes);

// Like allocate_large_buffer, for a buffer that lives as long as a model (a weight): small ones
// are carved one after another out of shared 64 MiB huge-page chunks, so a model of many 1-3 MiB
// matrices streams from huge pages too, with no per-tensor rounding to 2 MiB. A chunk is freed
// with the last buffer carved from it. Thread-safe.
std::shared_ptr<void> allocate_weight_buffer(size_t bytes);

// `bytes` of zeroed memory that takes physical pages only as it is first written (the KV cache:
// sized for the longest contexts, mostly untouched), 2 MiB-aligned and advised onto huge pages
// like allocate_large_buffer's (a decode step reads blocks scattered over the cache, one TLB
// entry per 4 KiB page otherwise). nullptr when the system has no room.
std::shared_ptr<void> allocate_lazy_zeroed(size_t bytes);

// Whether these allocators ask for huge pages (AUTOGLM_HUGE_PAGES, read once).
bool huge_pages_requested();

}  // namespace autoglm
