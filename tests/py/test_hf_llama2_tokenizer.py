"""Llama-2-style tokenizer.json (byte_fallback BPE) against Hugging Face tokenizers.

The tokenizer.json files are rebuilt here from ../shared/models/llama2-tokenizer/tokenizer.model with
transformers' converter (scripts/gen_hf_llama2_fixtures.py; never committed: Llama 2 license), then
  - the C++ API checks every fixture case (test_tokenizer's HfLlama2 test, pointed at the rebuilt files);
  - `autoglm tokenize` gives the fixture's ids and `--detokenize` gives the text back where HF does.
"""
import importlib
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("AUTOGLM_BIN", "")
MODELS = pathlib.Path(os.environ.get("AUTOGLM_SHARED_MODELS", ROOT.parent / "shared" / "models"))
FIXTURE = ROOT / "tests" / "data" / "hf_tokenizer_llama2.tsv"

for _mod in ("transformers", "sentencepiece", "google.protobuf", "tokenizers"):
    pytest.importorskip(_mod, reason=f"{_mod} is not installed (pip install -r scripts/requirements-test.txt)")


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    if not BIN or not os.path.exists(BIN):
        pytest.skip("AUTOGLM_BIN not built")
    if not (MODELS / "llama2-tokenizer" / "tokenizer.model").exists():
        pytest.skip("no ../shared/models/llama2-tokenizer/tokenizer.model")
    sys.path.insert(0, str(ROOT / "scripts"))
    gen = importlib.import_module("gen_hf_llama2_fixtures")
    out = tmp_path_factory.mktemp("llama2")
    paths = gen.build_variants(str(out))
    header = FIXTURE.read_text().splitlines()[0].split()
    want = dict(kv.split("=", 1) for kv in header[2:])
    for name, path in paths.items():
        assert gen.sha256(path) == want[name], (
            f"the converter now writes a different {name}.json than the fixture was made from "
            "(another transformers/tokenizers version?): rerun scripts/gen_hf_llama2_fixtures.py")
    return out


def cases(variant):
    for line in FIXTURE.read_text().splitlines()[1:]:
        f = line.split("\t")
        if f[0] == variant:
            text = bytes.fromhex(f[1])
            yield text, f[2], f[2] if f[6] == "=" else f[6], text if f[4] == "=" else bytes.fromhex(f[4])


def test_cpp_api_matches_every_case(variants):
    gtest = pathlib.Path(BIN).parent / "test_tokenizer"
    if not gtest.exists():
        pytest.skip(f"{gtest} not built")
    r = subprocess.run([str(gtest), "--gtest_filter=HfLlama2.*"], capture_output=True,
                       env={**os.environ, "AUTOGLM_LLAMA2_JSON_DIR": str(variants)}, timeout=600)
    out = r.stdout.decode(errors="replace")
    assert r.returncode == 0, out[-6000:]
    assert "[  PASSED  ] 1 test" in out and "SKIPPED" not in out, out[-2000:]


@pytest.mark.parametrize("variant", ["always", "first", "prepend", "split"])
def test_cli_tokenize_and_detokenize(variants, variant, tmp_path):
    model = variants / f"{variant}.json"
    all_cases = list(cases(variant))
    checked = 0
    for i, (text, ids, with_special, decoded) in enumerate(all_cases):
        if i % (len(all_cases) // 16) or b"\0" in text:  # a sample of 16: a process per call
            continue
        f = tmp_path / "in.txt"
        f.write_bytes(text)
        r = subprocess.run([BIN, "tokenize", "--model", str(model), "--parse-special", "--file", str(f)],
                           capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert r.stdout.decode().strip() == with_special, text
        r = subprocess.run([BIN, "tokenize", "--model", str(model), "--no-special", "--parse-special", "--file", str(f)],
                           capture_output=True, timeout=60)
        assert r.stdout.decode().strip() == ids, text
        if ids and decoded == text and b"<" not in text:  # lossless, and no special token to skip
            r = subprocess.run([BIN, "tokenize", "--model", str(model), "--detokenize", *ids.split()],
                               capture_output=True, timeout=60)
            assert r.returncode == 0, r.stderr
            assert r.stdout[:-1] == text  # the CLI ends the text with a newline
        checked += 1
    assert checked >= 12
