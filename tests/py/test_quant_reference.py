"""src/quant against gguf-py (llama.cpp's Python reference for GGUF block formats).

1. The committed fixture tests/data/quant_reference.bin is exactly what scripts/gen_quant_fixtures.py
   produces with today's gguf-py, so the C++ test's golden data really comes from the reference.
2. Fresh data (other seeds) from gguf-py is fed to the C++ test binary test_quant, which must
   dequantize and quantize it bit-exactly (GgufReference.*).
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests/data/quant_reference.bin"


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_quant_fixtures", ROOT / "scripts/gen_quant_fixtures.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def find_test_quant() -> Path | None:
    # test_quant is built next to the autoglm binary (CMAKE_RUNTIME_OUTPUT_DIRECTORY).
    candidates = []
    if os.environ.get("AUTOGLM_TEST_QUANT"):
        candidates.append(Path(os.environ["AUTOGLM_TEST_QUANT"]))
    if os.environ.get("AUTOGLM_BIN"):
        candidates.append(Path(os.environ["AUTOGLM_BIN"]).parent / "test_quant")
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return c
    return None


def test_committed_fixture_is_reproducible_from_gguf_py():
    gen = load_generator()
    assert FIXTURE.read_bytes() == gen.build(20240601), (
        "tests/data/quant_reference.bin differs from gguf-py's output; rerun scripts/gen_quant_fixtures.py")


@pytest.mark.parametrize("seed", [1, 77, 4242])
def test_cpp_matches_fresh_gguf_py_data(tmp_path, seed):
    binary = find_test_quant()
    if binary is None:
        pytest.skip("test_quant binary not found (set AUTOGLM_BIN or AUTOGLM_TEST_QUANT)")
    gen = load_generator()
    path = tmp_path / f"quant_{seed}.bin"
    path.write_bytes(gen.build(seed))
    env = dict(os.environ, AUTOGLM_QUANT_FIXTURE=str(path))
    proc = subprocess.run([str(binary), "--gtest_filter=GgufReference.*"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "[  PASSED  ] 2 tests" in proc.stdout
