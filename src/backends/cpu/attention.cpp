// Causal attention over the paged KV cache, FlashAttention style.
//
// The batch's tokens are cut into tiles: consecutive tokens of one sequence, at most
// kTileQueries query rows (tokens x heads of a GQA group) per tile. One work item is a tile
// and one kv head: it walks its sequence's blocks in order, a span of up to kAttnSpanKeys keys
// at a time (attention_kernels.h), reads each block's keys and values in place (F32, and F16 /
// I8 converted as they are loaded) or as f32 converted once into scratch (heads the kernel's
// register path does not cover), and runs every query of the tile and group against the span
// with an online softmax per query, so no score matrix is ever built and each K/V byte is read
// once per tile rather than once per query head.
//
// Where the kv heads do not divide evenly among the threads, a tile's keys are also cut into
// segments of kSegmentKeys positions (flash-decoding), whose softmax states are merged in order
// at the end. In a step with few items (decode) each segment is a work item of its own: without
// that a one-sequence decode step has only as many items as kv heads (smollm2: 3 on 2 threads,
// one thread doing two thirds of the attention). Otherwise an item runs its segments in turn.
// The cuts sit at fixed positions, so a query's arithmetic still depends only on its own row
// and position (and the thread count), never on what else is in the batch.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "backends/cpu/attention_kernels.h"
#include "backends/cpu/kernels.h"
#include "core/check.h"

namespace autoglm::cpu {

namespace {

// Query rows per tile: enough to reuse a converted block many times, few enough that their
// accumulators stay in L1/L2 (32 x head_dim 128 x 4 bytes = 16 KiB).
constexpr int32_t kTileQueries = 32;

// Keys per segment (rounded down to whole blocks, at least one). Each item and merge costs
// about a block's work (bench_kernels --attention, one sequence, 3 kv heads on 2 threads): 64-
// or 128-key segments were slower than none up to 2048 positions, and 256 took 130 us per
// layer at 4096 where 512 took 111 (both with a first, scalar merge). With 512, us per
// layer: 18.8 -> 17.5 at 600 positions, 30.0 -> 24.6 at 1024, 57.8 -> 46.9 at 2048; where
// there was little to balance, 16 sequences x 1024 409 -> 405, 16 x 600 238 -> 251 (every
// segment an item then; such steps now run segments in turn within items). Inside a
// model on this 2-core host the cold KV reads bound attention instead (smollm2 tg2048: 36.0 ->
// 35.3 us per call); the split is for hosts with more threads than kv heads.
constexpr int32_t kSegmentKeys = 512;

struct Tile {
  int64_t t0 = 0, t1 = 0;  // tokens [t0, t1) of the batch
  int32_t seq = 0;
  int32_t max_pos = 0;
  int32_t n_seg = 1;        // segments of its keys
  size_t partial_off = 0;   // where its segments' softmax states start in Job::partials
};

// A work item: one tile of queries against blocks [b0, b1) of one kv head: one of the tile's
// n_seg segments (its state goes to Job::partials, the last one to finish merges), or all of
// them (the states stay in the thread's scratch, merged at the item's end).
struct Item {
  int32_t tile = 0, kvh = 0, b0 = 0, b1 = 0;
  int64_t cost = 0;
};

struct Scratch {
  std::vector<float> q, acc, m, l, scores, kt, v;
  std::vector<float> states;  // an item's segment states, when it runs all of a tile's segments
  std::vector<const float*> merge_acc;  // merge_segments: one query's segment states
  std::vector<float> merge_m, merge_l, merge_w;
  std::vector<int32_t> visible;
};

struct Job {
  const Tensor& q;
  const graph::Attrs& a;
  const graph::StepContext& step;
  const kv::KVCache& cache;
  const AttnKernels& kern;
  int32_t group;
  float scale;
  Tensor& y;
  const std::vector<Tile>& tiles;
  int32_t seg_blocks;   // blocks per key segment
  int32_t span_blocks;  // blocks per span (AttnSpan): several only where blocks are whole 16-key chunks
  // Softmax states of the segments of tiles whose segments are items of their own: per tile,
  // kv head and segment, one slot of nq * (head_dim + 2) floats (acc, then m, then l).
  std::vector<float>& partials;
  // Per tile and kv head: segments not yet finished; the thread that finishes the last merges.
  std::atomic<int32_t>* segments_left;
};

size_t slot_floats(const Job& job, const Tile& tile) {
  const size_t nq = static_cast<size_t>(tile.t1 - tile.t0) * static_cast<size_t>(job.group);
  return nq * (static_cast<size_t>(job.a.head_dim) + 2);
}

// Where (tile, kvh)'s segment states start in Job::partials (one slot per segment follows).
float* partial_slots(const Job& job, const Tile& tile, int32_t kvh) {
  return job.partials.data() + tile.partial_off +
         static_cast<size_t>(kvh) * static_cast<size_t>(tile.n_seg) * slot_floats(job, tile);
}

// Where query qi of the tile's kv head kvh (token qi / group, head kvh * group + qi % group)
// writes its output.
float* output_row(const Job& job, const Tile& tile, int32_t kvh, size_t qi) {
  const int64_t tt = static_cast<int64_t>(qi) / job.group, g = static_cast<int64_t>(qi) % job.group;
  return job.y.data_as<float>() + (tile.t0 + tt) * job.y.cols() + (kvh * job.group + g) * job.a.head_dim;
}

// Gathers each query's segment states of (tile, kvh), n_seg slots from `slots` on, and merges
// them into its output (AttnKernels::merge).
void merge_segments(const Job& job, const Tile& tile, int32_t kvh, const float* slots, Scratch& s) {
  const size_t nq = static_cast<size_t>(tile.t1 - tile.t0) * static_cast<size_t>(job.group);
  const size_t hd = static_cast<size_t>(job.a.head_dim);
  const size_t n = static_cast<size_t>(tile.n_seg), slot = slot_floats(job, tile);
  s.merge_acc.resize(n);
  s.merge_m.resize(n);
  s.merge_l.resize(n);
  s.merge_w.resize((n + kAttnKeyChunk - 1) / kAttnKeyChunk * kAttnKeyChunk);
  for (size_t qi = 0; qi < nq; ++qi) {
    for (size_t seg = 0; seg < n; ++seg) {
      const float* p = slots + seg * slot;
      s.merge_acc[seg] = p + qi * hd;
      s.merge_m[seg] = p[nq * hd + qi];
      s.merge_l[seg] = p[nq * hd + nq + qi];
    }
    job.kern.merge(tile.n_seg, s.merge_acc.data(), s.merge_m.data(), s.merge_l.data(), job.a.head_dim,
                   s.merge_w.data(), output_row(job, tile, kvh, qi));
  }
}

// Block b of seq (this layer, kv head kvh): where its keys and values start.
std::pair<const char*, const char*> block_data(const Job& job, const kv::SequenceKV& seq, int32_t b, int32_t kvh) {
  const int32_t block = seq.blocks()[static_cast<size_t>(b)];
  return {static_cast<const char*>(job.cache.key_block(job.a.layer, block, kvh).data),
          static_cast<const char*>(job.cache.value_block(job.a.layer, block, kvh).data)};
}

// KV blocks asked for into L2 this far ahead of the span being scored (the next span is asked
// for into L1 by the span kernel). Measured with bench_kernels --attention (16 sequences,
// every variant in each round, medians of 10): one block ahead into L1 alone read 13-16 GB/s
// of K/V at 256 positions, where the probe read 35; adding L2 requests 2 blocks ahead read
// ~30% faster, 4 ahead ~35%; 6 ahead and the T2 hint were no better than 4. With spans of 4
// blocks, 8 and 12 ahead were no better than 4 either, nor asking L2 from inside the kernel
// a few lines at a time (slower: 278 against 200 us a layer, 16 sequences x 256).
constexpr int32_t kL2AheadBlocks = 4;

// Asks for `bytes` of a block's keys and values, at __builtin_prefetch locality L (3: into L1,
// 2: into L2).
template <int L>
void prefetch_kv(const char* k, const char* v, int32_t bytes) {
  for (int32_t off = 0; off < bytes; off += 64) {
    __builtin_prefetch(k + off, 0, L);
    __builtin_prefetch(v + off, 0, L);
  }
}

// `next`: the item this thread runs after this one (null if none), whose first blocks are
// asked for while this one ends; `announced`: this item's first blocks were asked for so by
// the previous item.
void run_item(const Job& job, const Item& item, Scratch& s, const Item* next, bool announced) {
  const Tile& tile = job.tiles[static_cast<size_t>(item.tile)];
  const int32_t kvh = item.kvh;
  const int32_t hd = job.a.head_dim, group = job.group;
  const auto& cc = job.cache.config();
  const int32_t bs = cc.block_size;
  const int32_t n_tok = static_cast<int32_t>(tile.t1 - tile.t0);
  const int32_t nq = n_tok * group;
  const size_t qhd = static_cast<size_t>(nq) * static_cast<size_t>(hd);
  const int64_t kt_stride = (bs + kAttnKeyChunk - 1) / kAttnKeyChunk * kAttnKeyChunk;
  s.q.resize(qhd);
  auto reset_state = [&] {
    s.acc.assign(qhd, 0.0f);
    s.m.assign(static_cast<size_t>(nq), -std::numeric_limits<float>::infinity());
    s.l.assign(static_cast<size_t>(nq), 0.0f);
  };
  reset_state();
  s.visible.resize(static_cast<size_t>(nq));
  for (int32_t tt = 0; tt < n_tok; ++tt) {
    for (int32_t g = 0; g < group; ++g) {
      const float* src = job.q.data_as<float>() + (tile.t0 + tt) * job.q.cols() + static_cast<int64_t>(kvh * group + g) * hd;
      float* dst = s.q.data() + static_cast<size_t>(tt * group + g) * static_cast<size_t>(hd);
      std::copy(src, src + hd, dst);
      if (job.cache.keys_rotated()) kv::KVCache::rotate_keys(dst, hd);  // q.k == H(q).H(k)
    }
  }
  const bool f32 = cc.dtype == DType::F32, f16 = cc.dtype == DType::F16;
  const bool kt_in_place = f32 && kt_stride == bs;
  // F16 and I8 blocks are read in place, converted as they are loaded, where the kernel's
  // register path covers the head (no scratch copy: a decode step converts every block it
  // reads once; through f32 scratch, llama3.2-1b's I8 decode attention at 4096 positions took
  // twice F16's time for half its bytes).
  const bool reg_path = kt_stride == bs && hd % kAttnKeyChunk == 0 && hd <= kAttnMaxRegDims;
  const bool f16_in_place = f16 && job.kern.span_f16 != nullptr && reg_path;
  const bool i8_in_place = cc.dtype == DType::I8 && job.kern.span_i8 != nullptr && reg_path;
  const bool in_place = f16_in_place || i8_in_place;
  const int32_t span_blocks = job.span_blocks;
  const size_t kt_floats = static_cast<size_t>(hd) * static_cast<size_t>(kt_stride);
  const size_t v_floats = static_cast<size_t>(bs) * static_cast<size_t>(hd);
  if (!kt_in_place && !in_place) s.kt.resize(static_cast<size_t>(span_blocks) * kt_floats);
  if (!f32 && !in_place) s.v.resize(static_cast<size_t>(span_blocks) * v_floats);
  s.scores.resize(static_cast<size_t>(kAttnQueryBatch) * static_cast<size_t>(span_blocks) * static_cast<size_t>(kt_stride));
  AttnQueries qs;
  qs.n = nq;
  qs.head_dim = hd;
  qs.q = s.q.data();
  qs.m = s.m.data();
  qs.l = s.l.data();
  qs.acc = s.acc.data();
  const kv::SequenceKV& seq = *job.step.seqs[static_cast<size_t>(tile.seq)];
  const int32_t last_block = item.b1 - 1;
  // Blocks lie anywhere in the cache, so the hardware prefetcher cannot run ahead of a block
  // change (batched decode reads every sequence's whole KV each step): the software asks for
  // them along this thread's stream of blocks, this item's and then the next item's. Each
  // block goes into L2 kL2AheadBlocks ahead, all at once (L2 takes more misses in flight than
  // L1), and into L1 one span ahead, a few lines at a time by the kernel while it scores the
  // current span: asking L1 for whole blocks at once stalls on the core's miss buffers.
  qs.prefetch_bytes = static_cast<int32_t>(static_cast<size_t>(hd) * static_cast<size_t>(bs) * dtype_info(cc.dtype).type_size);
  auto stream_block = [&](int32_t j) -> std::pair<const char*, const char*> {
    if (j <= last_block) return block_data(job, seq, j, kvh);
    if (next == nullptr) return {nullptr, nullptr};
    const int32_t jn = next->b0 + (j - last_block - 1);
    if (jn >= next->b1) return {nullptr, nullptr};
    const Tile& nt = job.tiles[static_cast<size_t>(next->tile)];
    return block_data(job, *job.step.seqs[static_cast<size_t>(nt.seq)], jn, next->kvh);
  };
  auto prefetch_block = [&](int32_t j, bool into_l1) {
    const auto [kb, vb] = stream_block(j);
    if (kb == nullptr) return;
    if (into_l1) {
      prefetch_kv<3>(kb, vb, qs.prefetch_bytes);
    } else {
      prefetch_kv<2>(kb, vb, qs.prefetch_bytes);
    }
  };
  if (!announced) {
    for (int32_t j = item.b0; j < item.b0 + kL2AheadBlocks && j <= last_block; ++j) {
      prefetch_block(j, /*into_l1=*/j == item.b0);
    }
  }
  // An item running several segments keeps each one's state in s.states (slot per segment).
  const int32_t seg0 = item.b0 / job.seg_blocks;
  const bool whole = tile.n_seg > 1 && (last_block - item.b0) >= job.seg_blocks;
  const size_t slot = slot_floats(job, tile);
  if (whole) s.states.resize(static_cast<size_t>(tile.n_seg) * slot);
  auto save_state = [&](float* dst) {
    std::copy(s.acc.begin(), s.acc.begin() + static_cast<std::ptrdiff_t>(qhd), dst);
    std::copy(s.m.begin(), s.m.end(), dst + qhd);
    std::copy(s.l.begin(), s.l.end(), dst + qhd + static_cast<size_t>(nq));
  };
  AttnSpan<float> span;
  AttnSpan<uint16_t> span16;
  AttnSpan<int8_t> span8;
  span.block_size = span16.block_size = span8.block_size = bs;
  span.kt_stride = span16.kt_stride = span8.kt_stride = kt_stride;
  // Spans start at multiples of span_blocks (items start at segment starts, which are).
  for (int32_t b = item.b0; b <= last_block;) {
    if (whole && b > item.b0 && b % job.seg_blocks == 0) {  // a segment ends: keep its state, start the next
      save_state(s.states.data() + static_cast<size_t>(b / job.seg_blocks - 1) * slot);
      reset_state();
    }
    const int32_t nb = std::min(span_blocks, last_block - b + 1);
    span.blocks = span16.blocks = span8.blocks = nb;
    for (int32_t j = b; j < b + nb; ++j) prefetch_block(j + kL2AheadBlocks, /*into_l1=*/false);
    qs.prefetch_blocks = 0;
    for (int32_t j = b + nb; j < b + nb + span_blocks; ++j) {
      const auto [kb, vb] = stream_block(j);
      if (kb == nullptr) break;
      qs.prefetch_k[qs.prefetch_blocks] = kb;
      qs.prefetch_v[qs.prefetch_blocks++] = vb;
    }
    const int32_t first = b * bs;
    const int32_t n_keys = std::min(nb * bs, tile.max_pos - first + 1);
    for (int32_t tt = 0; tt < n_tok; ++tt) {
      const int32_t pos = job.step.positions[static_cast<size_t>(tile.t0 + tt)];
      const int32_t vis = std::clamp(pos - first + 1, 0, n_keys);
      std::fill_n(s.visible.begin() + tt * group, group, vis);
    }
    for (int32_t bi = 0; bi < nb; ++bi) {
      const int32_t block = seq.blocks()[static_cast<size_t>(b + bi)];
      const kv::KeyBlockView kb = job.cache.key_block(job.a.layer, block, kvh);
      const kv::ValueBlockView vb = job.cache.value_block(job.a.layer, block, kvh);
      if (f16_in_place) {
        span16.kt[bi] = static_cast<const uint16_t*>(kb.data);
        span16.v[bi] = static_cast<const uint16_t*>(vb.data);
        continue;
      }
      if (i8_in_place) {
        span8.kt[bi] = static_cast<const int8_t*>(kb.data);
        span8.v[bi] = static_cast<const int8_t*>(vb.data);
        span8.k_scale[bi] = kb.scale;
        span8.k_zero[bi] = kb.zero;
        span8.v_scale[bi] = vb.scale;
        continue;
      }
      const int32_t block_keys = std::min(bs, n_keys - bi * bs);
      // Scratch slots only where there is scratch (it is empty where the cache is read in place).
      if (kt_in_place) {
        span.kt[bi] = static_cast<const float*>(kb.data);
      } else {
        float* kt = s.kt.data() + static_cast<size_t>(bi) * kt_floats;
        span.kt[bi] = kt;
        if (f32) {
          for (int32_t i = 0; i < hd; ++i) {
            const float* row = static_cast<const float*>(kb.data) + static_cast<int64_t>(i) * bs;
            std::copy(row, row + block_keys, kt + i * kt_stride);
          }
        } else if (f16) {
          const auto* h = static_cast<const uint16_t*>(kb.data);
          if (kt_stride == bs) {
            job.kern.half_to_float(h, kt, static_cast<int64_t>(hd) * bs);
          } else {
            for (int32_t i = 0; i < hd; ++i) job.kern.half_to_float(h + static_cast<int64_t>(i) * bs, kt + i * kt_stride, block_keys);
          }
        } else {
          job.kern.dequant_cols(static_cast<const int8_t*>(kb.data), bs, kb.scale, kb.zero, hd, block_keys, kt, kt_stride);
        }
      }
      if (f32) {
        span.v[bi] = static_cast<const float*>(vb.data);
      } else {
        float* v = s.v.data() + static_cast<size_t>(bi) * v_floats;
        span.v[bi] = v;
        if (f16) {
          job.kern.half_to_float(static_cast<const uint16_t*>(vb.data), v, static_cast<int64_t>(block_keys) * hd);
        } else {
          job.kern.dequant_rows(static_cast<const int8_t*>(vb.data), vb.scale, block_keys, hd, v);
        }
      }
    }
    if (f16_in_place) {
      job.kern.span_f16(qs, s.visible.data(), span16, job.scale, s.scores.data());
    } else if (i8_in_place) {
      job.kern.span_i8(qs, s.visible.data(), span8, job.scale, s.scores.data());
    } else {
      job.kern.span(qs, s.visible.data(), span, job.scale, s.scores.data());
    }
    b += nb;
  }
  if (tile.n_seg == 1) {
    for (size_t qi = 0; qi < static_cast<size_t>(nq); ++qi) {
      float* out = output_row(job, tile, kvh, qi);
      const float* acc = s.acc.data() + qi * static_cast<size_t>(hd);
      const float inv = 1.0f / s.l[qi];
      for (int32_t i = 0; i < hd; ++i) out[i] = acc[i] * inv;
    }
    return;
  }
  if (whole) {
    save_state(s.states.data() + static_cast<size_t>(tile.n_seg - 1) * slot);
    merge_segments(job, tile, kvh, s.states.data(), s);
    return;
  }
  float* slots = partial_slots(job, tile, kvh);
  save_state(slots + static_cast<size_t>(seg0) * slot);
  // The last of the tile's segments to finish merges them all (acq_rel: it sees the others'
  // slots).
  if (job.segments_left[static_cast<size_t>(item.tile) * static_cast<size_t>(job.a.n_head_kv) + static_cast<size_t>(kvh)]
          .fetch_sub(1, std::memory_order_acq_rel) == 1) {
    merge_segments(job, tile, kvh, slots, s);
  }
}

}  // namespace

Status attention(const Tensor& q, const Tensor& k, const Tensor& v, const graph::Attrs& a,
                 graph::StepContext& step, Tensor& y, ThreadPool& pool) {
  return attention_with(attn_kernels(), q, k, v, a, step, y, pool);
}

Status attention_with(const AttnKernels& kern, const Tensor& q, const Tensor& k, const Tensor& v,
                      const graph::Attrs& a, graph::StepContext& step, Tensor& y, ThreadPool& pool) {
  const int64_t n_tok = q.rows();
  const int32_t hd = a.head_dim, nh = a.n_head, nkv = a.n_head_kv;
  AG_CHECK(nkv > 0 && nh % nkv == 0 && step.cache != nullptr);
  AG_CHECK(static_cast<int64_t>(step.token_seq.size()) == n_tok && static_cast<int64_t>(step.positions.size()) == n_tok);
  kv::KVCache& cache = *step.cache;
  const auto& cc = cache.config();
  AG_CHECK(cc.n_kv_heads == nkv && cc.head_dim == hd);

  // 1. Store this step's keys and values at their positions: tokens in parallel, since a store
  // converts and scatters (keys transposed: one cache line per dim) and 16 decode tokens took
  // ~20 us on one thread. Tokens write different slots, so they never write the same bytes.
  for (int64_t t = 0; t < n_tok; ++t) {
    const int32_t si = step.token_seq[static_cast<size_t>(t)];
    AG_CHECK(si >= 0 && static_cast<size_t>(si) < step.seqs.size());
    const kv::SequenceKV& seq = *step.seqs[static_cast<size_t>(si)];
    const int32_t pos = step.positions[static_cast<size_t>(t)];
    if (pos < 0 || pos >= seq.capacity(cache)) {
      return Internal("attention: position " + std::to_string(pos) + " has no KV block reserved");
    }
  }
  pool.parallel_for(n_tok, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const kv::SequenceKV& seq = *step.seqs[static_cast<size_t>(step.token_seq[static_cast<size_t>(t)])];
      auto [block, slot] = seq.locate(cache, step.positions[static_cast<size_t>(t)]);
      cache.store(a.layer, block, slot, k.data_as<float>() + t * k.cols(), v.data_as<float>() + t * v.cols());
    }
  });

  // 2. Tiles: runs of consecutive tokens of one sequence, at most kTileQueries query rows.
  const int32_t group = nh / nkv;
  const int64_t tile_tokens = std::max<int64_t>(1, kTileQueries / group);
  std::vector<Tile> tiles;
  for (int64_t t = 0; t < n_tok; ++t) {
    const int32_t si = step.token_seq[static_cast<size_t>(t)];
    const int32_t pos = step.positions[static_cast<size_t>(t)];
    if (tiles.empty() || tiles.back().seq != si || tiles.back().t1 - tiles.back().t0 >= tile_tokens) {
      tiles.push_back({t, t, si, pos});
    }
    tiles.back().t1 = t + 1;
    tiles.back().max_pos = std::max(tiles.back().max_pos, pos);
  }

  // 3. Work items (tile, kv head, segment), costliest first, handed out dynamically: causal
  // tiles differ in length, so a static split would leave one thread idle.
  const int32_t bs = cc.block_size;
  // Kv heads that divide evenly among the threads balance already: no segments, no merge.
  const bool segmented = nkv % pool.size() != 0;
  // Spans of several blocks only where a block is whole 16-key chunks (16 or 32 slots: a
  // segment is then whole spans, and a span never crosses a segment's end).
  const int32_t span_blocks = bs % kAttnKeyChunk == 0 && kAttnSpanKeys % bs == 0 ? kAttnSpanKeys / bs : 1;
  const int32_t seg_blocks = segmented ? std::max(span_blocks, kSegmentKeys / bs) : std::numeric_limits<int32_t>::max();
  AG_CHECK(!segmented || seg_blocks % span_blocks == 0);
  // Segments become items of their own only where items are few (decode); a prefill step has
  // plenty of tiles, and its (tile, kv head) items run their segments in turn, their states in
  // the thread's scratch: the same arithmetic without a state buffer for every tile at once
  // (a 32k-token prompt in one step would have needed ~2.5 GB).
  const bool split_segments = segmented && tiles.size() * static_cast<size_t>(nkv) < 4 * static_cast<size_t>(pool.size());
  std::vector<Item> items;
  int64_t total = 0;
  size_t partial_floats = 0;
  for (size_t i = 0; i < tiles.size(); ++i) {
    Tile& tile = tiles[i];
    const int32_t n_blocks = tile.max_pos / bs + 1;
    tile.n_seg = 1 + (n_blocks - 1) / seg_blocks;
    const int64_t rows = (tile.t1 - tile.t0) * group;
    // Blocks per item: a segment's, or all of the tile's.
    const int32_t item_blocks = split_segments ? seg_blocks : n_blocks;
    for (int32_t h = 0; h < nkv; ++h) {
      for (int32_t b0 = 0; b0 < n_blocks; b0 += item_blocks) {
        const int32_t b1 = n_blocks - b0 > item_blocks ? b0 + item_blocks : n_blocks;
        const int64_t keys = std::min(tile.max_pos + 1, b1 * bs) - b0 * bs;
        items.push_back({static_cast<int32_t>(i), h, b0, b1, rows * keys * static_cast<int64_t>(hd)});
        total += items.back().cost;
      }
    }
    if (split_segments && tile.n_seg > 1) {
      tile.partial_off = partial_floats;
      partial_floats += static_cast<size_t>(nkv) * static_cast<size_t>(tile.n_seg) * static_cast<size_t>(rows) *
                        (static_cast<size_t>(hd) + 2);
    }
  }
  std::stable_sort(items.begin(), items.end(), [](const Item& x, const Item& z) { return x.cost > z.cost; });
  std::vector<float> partials(partial_floats);
  // Countdowns only where segments are items of their own (no allocation in other steps).
  std::unique_ptr<std::atomic<int32_t>[]> segments_left;
  if (split_segments) {
    const size_t n_pairs = tiles.size() * static_cast<size_t>(nkv);
    segments_left.reset(new std::atomic<int32_t>[n_pairs]);
    for (size_t i = 0; i < n_pairs; ++i) segments_left[i].store(tiles[i / static_cast<size_t>(nkv)].n_seg, std::memory_order_relaxed);
  }
  const float scale = a.attn_scale > 0 ? a.attn_scale : 1.0f / std::sqrt(static_cast<float>(hd));
  const Job job{q, a, step, cache, kern, group, scale, y, tiles, seg_blocks, span_blocks, partials, segments_left.get()};
  std::atomic<size_t> next{0};
  // Each thread claims its next item before running the current one, so that the current
  // one's last blocks can ask for the next one's first; but only while at least one item per
  // thread is left unclaimed, else a thread could hold work another would sit idle for (decode
  // with 2 kv heads is 2 items: one each, not both on the first thread to wake).
  auto worker = [&](int, int nt) {
    Scratch s;
    bool announced = false;
    size_t cur = next.fetch_add(1);
    while (cur < items.size()) {
      size_t nx = items.size();
      if (next.load(std::memory_order_relaxed) + static_cast<size_t>(nt) <= items.size()) nx = next.fetch_add(1);
      const Item* after = nx < items.size() ? &items[nx] : nullptr;
      run_item(job, items[cur], s, after, announced);
      announced = after != nullptr;
      cur = nx < items.size() ? nx : next.fetch_add(1);
    }
  };
  // Below ~8k multiply-adds one thread is quicker than waking another; decode of a small model
  // (a few kv heads over a short context) is above it and gains from the second thread.
  if (pool.size() == 1 || items.size() == 1 || total < kMinChunkWork / 4) {
    worker(0, 1);
  } else {
    pool.run(worker);
  }
  return Status::OK();
}

}  // namespace autoglm::cpu
