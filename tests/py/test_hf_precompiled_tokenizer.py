"""SentencePiece Unigram tokenizer.json files with a Precompiled normalizer (tests/data/hf_trained/t5_nfkc.json,
albert_cf.json, albert_lower.json; made by scripts/gen_hf_precompiled_fixtures.py) against Hugging Face tokenizers:
  - the committed fixture is still what the installed `tokenizers` gives on the committed files (the C++ test
    test_tokenizer's HfPrecompiled.MatchesHuggingFace checks every case against it);
  - `autoglm tokenize` gives the fixture's ids on a sample.
"""
import importlib
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("AUTOGLM_BIN", "")
DATA = ROOT / "tests" / "data"
FIXTURE = DATA / "hf_tokenizer_precompiled.tsv"

pytest.importorskip("tokenizers", reason="tokenizers is not installed (pip install -r scripts/requirements-test.txt)")


def fixture_lines(name):
    return [line for line in FIXTURE.read_text().splitlines() if line.split("\t", 1)[0] == name]


@pytest.mark.parametrize("name", ["t5_nfkc", "albert_cf", "albert_lower"])
def test_fixture_is_current(name):
    from tokenizers import Tokenizer

    sys.path.insert(0, str(ROOT / "scripts"))
    gen = importlib.import_module("gen_hf_precompiled_fixtures")
    llama2 = importlib.import_module("gen_hf_llama2_fixtures")
    tok = Tokenizer.from_file(str(DATA / "hf_trained" / f"{name}.json"))
    want = fixture_lines(name)
    assert len(want) == gen.COUNTS[name]
    # The fixture's own strings (the generator's depend on Python's Unicode tables).
    strings = [bytes.fromhex(line.split("\t")[1]).decode() for line in want]
    got = llama2.case_lines(tok, name, strings)
    assert got == want, "tokenizers now answers differently: rerun scripts/gen_hf_precompiled_fixtures.py"


@pytest.mark.parametrize("name", ["t5_nfkc", "albert_cf"])
def test_cli_tokenize(name, tmp_path):
    if not BIN or not os.path.exists(BIN):
        pytest.skip("AUTOGLM_BIN not built")
    model = DATA / "hf_trained" / f"{name}.json"
    lines = fixture_lines(name)
    checked = 0
    for i, line in enumerate(lines):
        f = line.split("\t")
        text = bytes.fromhex(f[1])
        if i % (len(lines) // 16) or b"\0" in text:  # a sample of 16: a process per call
            continue
        inp = tmp_path / "in.txt"
        inp.write_bytes(text)
        r = subprocess.run([BIN, "tokenize", "--model", str(model), "--parse-special", "--file", str(inp)],
                           capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert r.stdout.decode().strip() == (f[2] if f[6] == "=" else f[6]), text
        checked += 1
    assert checked >= 12
