#!/usr/bin/env python3
"""Golden data for src/quant from an independent reference: llama.cpp's gguf-py (gguf.quants).

Writes tests/data/quant_reference.bin, read by tests/quant/gguf_reference_test.cpp:

  magic    b"AGQREF01"
  u32      record count
  records: u32 kind, u32 ggml type id, u32 n_elements, u32 n_bytes, n_bytes raw bytes,
           n_elements little-endian float32
    kind 0 (DEQUANT):  random block bytes (with finite f16 scales) and gguf-py's dequantization.
    kind 1 (QUANTIZE): float input and gguf-py's quantization of it.

Usage: .venv/bin/python scripts/gen_quant_fixtures.py [--seed N] [--out PATH]
"""
from __future__ import annotations

import argparse
import struct
import sys
from pathlib import Path

import numpy as np
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType as T
from gguf import quants

MAGIC = b"AGQREF01"
KIND_DEQUANT = 0
KIND_QUANTIZE = 1

# Byte offsets of f16 scale fields inside one block (GGUF layout); random bytes there would give
# inf/NaN scales, so they are overwritten with finite values.
F16_FIELDS = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
    T.IQ4_NL: [0], T.IQ4_XS: [0],
    T.IQ2_XXS: [0], T.IQ2_XS: [0], T.IQ2_S: [0], T.IQ3_XXS: [0], T.IQ3_S: [0], T.IQ1_S: [0],
    T.IQ1_M: [],  # its f16 d is the top nibbles of the 4 scale words (set in dequant_record)
}
DEQUANT_TYPES = [T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0,
                 T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K, T.IQ4_NL, T.IQ4_XS]
# The lattice types, drawn from a second generator so the records above keep their bytes.
DEQUANT_TYPES_IQ123 = [T.IQ2_XXS, T.IQ2_XS, T.IQ2_S, T.IQ3_XXS, T.IQ3_S, T.IQ1_S, T.IQ1_M]
QUANTIZE_TYPES = [T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0]
N_ELEMENTS = 1024


def random_scales(rng: np.random.Generator, count: int) -> np.ndarray:
    """Finite f16 scales: mostly log-uniform over normal and subnormal range, plus edge values."""
    mag = np.exp2(rng.uniform(-26.0, 4.0, size=count)).astype(np.float32)
    sign = np.where(rng.random(count) < 0.5, -1.0, 1.0).astype(np.float32)
    vals = (mag * sign).astype(np.float16)
    edge = np.array([0.0, -0.0, 2.0**-24, 2.0**-14, 65504.0, -1.0], dtype=np.float16)
    k = min(count, len(edge))
    vals[:k] = edge[:k]
    rng.shuffle(vals)
    return vals


def dequant_record(rng: np.random.Generator, t: T) -> tuple[bytes, np.ndarray]:
    block_size, type_size = GGML_QUANT_SIZES[t]
    n_blocks = N_ELEMENTS // block_size
    raw = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    if t == T.F16:
        # Keep every special class (inf, NaN, subnormals, zeros) in the row.
        specials = np.array([0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x7bff, 0x7c00, 0xfc00, 0x7e00, 0x7c01],
                            dtype=np.uint16)
        raw.reshape(-1).view(np.uint16)[: len(specials)] = specials
    elif t == T.BF16:
        specials = np.array([0x0000, 0x8000, 0x0001, 0x7f7f, 0x7f80, 0xff80, 0x7fc0], dtype=np.uint16)
        raw.reshape(-1).view(np.uint16)[: len(specials)] = specials
    else:
        for off in F16_FIELDS[t]:
            raw[:, off:off + 2] = random_scales(rng, n_blocks).view(np.uint8).reshape(n_blocks, 2)
        if t == T.IQ1_M:
            d = random_scales(rng, n_blocks).view(np.uint16)
            words = raw[:, 48:56].copy().view(np.uint16)  # (n_blocks, 4)
            for i in range(4):
                words[:, i] = (words[:, i] & 0x0FFF) | (((d >> (4 * i)) & 0xF) << 12)
            raw[:, 48:56] = words.view(np.uint8)
        raw[0, :] = 0  # an all-zero block
    with np.errstate(all="ignore"):
        values = quants.dequantize(raw.reshape(-1), t).astype(np.float32).reshape(-1)
    assert values.size == N_ELEMENTS
    return raw.tobytes(), values


def quantize_input(rng: np.random.Generator, t: T) -> np.ndarray:
    if t in (T.F16, T.BF16):
        x = (rng.standard_normal(N_ELEMENTS) * np.exp2(rng.uniform(-30, 20, N_ELEMENTS))).astype(np.float32)
        # Exact halfway points between neighbouring representable values test ties-to-even.
        if t == T.F16:
            h = rng.integers(0, 0x7bff, size=256, dtype=np.uint16)
            lo = h.view(np.float16).astype(np.float64)
            hi = (h + 1).view(np.float16).astype(np.float64)
            x[:256] = ((lo + hi) / 2).astype(np.float32)
            x[256:266] = [65504.0, 65519.0, 65520.0, 65536.0, 1e-8, 2.0**-25, 3 * 2.0**-26, np.inf, -np.inf, np.nan]
        else:
            b = rng.integers(0, 0x7f7f, size=256, dtype=np.uint32) << 16
            x[:256] = (b | 0x8000).view(np.float32)  # exactly halfway
            x[256:262] = [np.inf, -np.inf, np.nan, 3.4e38, 1e-45, -0.0]
        return x
    blocks = N_ELEMENTS // 32
    x = rng.standard_normal(N_ELEMENTS).astype(np.float32)
    x *= np.repeat(np.exp2(rng.uniform(-8, 8, blocks)), 32).astype(np.float32)
    x[:32] = 0.0                                              # zero block
    x[32:64] = 1.25                                           # constant block
    x[64:96] = np.arange(-16, 16, dtype=np.float32)           # integer grid: many exact ties
    x[96:128] = rng.standard_normal(32).astype(np.float32) * 1e-3
    x[100] = 50.0                                             # one outlier
    return x


def build(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    out = bytearray()
    records = 0
    for t in DEQUANT_TYPES:
        raw, values = dequant_record(rng, t)
        out += struct.pack("<IIII", KIND_DEQUANT, int(t), values.size, len(raw)) + raw
        out += values.astype("<f4").tobytes()
        records += 1
    for t in QUANTIZE_TYPES:
        x = quantize_input(rng, t)
        with np.errstate(all="ignore"):
            q = quants.quantize(x.reshape(1, -1), t)
        raw = np.ascontiguousarray(q).view(np.uint8).tobytes()
        out += struct.pack("<IIII", KIND_QUANTIZE, int(t), x.size, len(raw)) + raw
        out += x.astype("<f4").tobytes()
        records += 1
    rng_iq = np.random.default_rng(seed + 1)
    for t in DEQUANT_TYPES_IQ123:
        raw, values = dequant_record(rng_iq, t)
        out += struct.pack("<IIII", KIND_DEQUANT, int(t), values.size, len(raw)) + raw
        out += values.astype("<f4").tobytes()
        records += 1
    return MAGIC + struct.pack("<I", records) + bytes(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "tests/data/quant_reference.bin")
    args = ap.parse_args()
    data = build(args.seed)
    args.out.write_bytes(data)
    print(f"wrote {args.out} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
