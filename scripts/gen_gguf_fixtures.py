#!/usr/bin/env python3
"""Writes tests/data/gguf/gguf_py_reference.gguf with llama.cpp's gguf-py (the independent
reference writer): every metadata value type, nested arrays, and F32/F16/Q8_0/Q4_K tensors
with patterned bytes. tests/formats/gguf_interop_test.cpp reads it and checks that our Writer
produces the same bytes from the same content. Run from the repo root:
    .venv/bin/python scripts/gen_gguf_fixtures.py
"""
import os
import sys

import numpy as np
import gguf

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "gguf", "gguf_py_reference.gguf")


def pattern(n, seed):
    # Same formula as the C++ test: (seed + i * 31 + (i >> 8)) mod 256.
    i = np.arange(n, dtype=np.int64)
    return ((seed + i * 31 + (i >> 8)) % 256).astype(np.uint8)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else OUT
    os.makedirs(os.path.dirname(path), exist_ok=True)
    w = gguf.GGUFWriter(path, "llama")  # writes general.architecture first
    w.add_uint8("t.u8", 255)
    w.add_int8("t.i8", -128)
    w.add_uint16("t.u16", 65535)
    w.add_int16("t.i16", -32768)
    w.add_uint32("t.u32", 4294967295)
    w.add_int32("t.i32", -2147483648)
    w.add_float32("t.f32", -1.25)
    w.add_bool("t.bool", True)
    w.add_string("t.str", "h\u00e9llo \"w\"\n")
    w.add_uint64("t.u64", 18446744073709551615)
    w.add_int64("t.i64", -9223372036854775808)
    w.add_float64("t.f64", 0.1)
    w.add_array("t.arr.str", ["<s>", "", "\u2581the"])
    w.add_array("t.arr.i32", [1, -2, 3])
    w.add_array("t.arr.f32", [0.5, -3.0])
    w.add_array("t.arr.nested", [[1, 2], [3]])
    f32 = np.arange(15, dtype=np.float32).reshape(3, 5) * 0.5
    w.add_tensor("f32", f32)
    w.add_tensor("f16", (np.arange(7, dtype=np.float16) - 3))
    # Quantized tensors are given as raw bytes shaped (rows..., bytes per row).
    w.add_tensor("q8_0", pattern(2 * 3 * 2 * 34, 3).reshape(2, 3, 68), raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    w.add_tensor("q4_k", pattern(2 * 144, 4).reshape(2, 144), raw_dtype=gguf.GGMLQuantizationType.Q4_K)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
