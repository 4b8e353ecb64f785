"""`autoglm chat-template` against the transformers-rendered fixture and its error contract.

Expected prompts come from tests/data/chat_templates/expected.json (made by
scripts/gen_chat_template_fixtures.py with Hugging Face transformers); no template engine is needed
here. Exit codes: 0 ok, 1 error (one line on stderr), 2 bad usage.
"""
import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("AUTOGLM_BIN", str(ROOT / "build" / "bin" / "autoglm"))
MODELS = pathlib.Path(os.environ.get("AUTOGLM_SHARED_MODELS", str(ROOT.parent / "shared" / "models")))
DATA = ROOT / "tests" / "data" / "chat_templates"
PHI3 = MODELS / "ggml-vocab" / "ggml-vocab-phi-3.gguf"
NO_TEMPLATE = MODELS / "ggml-vocab" / "ggml-vocab-llama-spm.gguf"

pytestmark = pytest.mark.skipif(not pathlib.Path(BIN).exists(), reason="autoglm binary not built")


def run(*args):
    return subprocess.run([BIN, "chat-template", *map(str, args)], capture_output=True, timeout=60)


def expected(name):
    cases = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))["templates"]
    return next(c for c in cases if c["name"] == name)


@pytest.mark.skipif(not PHI3.exists(), reason="phi-3 vocabulary fixture missing")
@pytest.mark.parametrize("conv", ["single_user", "no_system_multi", "unicode_whitespace"])
@pytest.mark.parametrize("gen", [True, False])
def test_gguf_template_and_bos_match_transformers(conv, gen):
    case = expected(f"phi3/{conv}/{'gen' if gen else 'nogen'}")
    args = ["--model", PHI3, "--messages", json.dumps(case["messages"], ensure_ascii=False)]
    if not gen:
        args.append("--no-generation-prompt")
    r = run(*args)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode("utf-8") == case["output"]


@pytest.mark.parametrize("name", ["qwen2.5/multi_turn/gen", "qwen2.5/unicode_whitespace/nogen", "glm4/system_user/gen",
                                  "smollm2_chatml/multi_turn/gen"])
def test_template_file_matches_transformers(name, tmp_path):
    case = expected(name)
    messages = tmp_path / "m.json"
    messages.write_text(json.dumps(case["messages"], ensure_ascii=False), encoding="utf-8")
    args = ["--template", DATA / case["template"], "--messages", f"@{messages}"]
    if not case["add_generation_prompt"]:
        args.append("--no-generation-prompt")
    r = run(*args)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode("utf-8") == case["output"]


def test_builtin_template_without_model():
    r = run("--template", "chatml", "--messages", '[{"role": "user", "content": "hi"}]')
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"


@pytest.mark.skipif(not NO_TEMPLATE.exists(), reason="llama-spm vocabulary fixture missing")
def test_model_without_template_falls_back_or_fails_clearly():
    msgs = '[{"role": "user", "content": "hi"}]'
    r = run("--model", NO_TEMPLATE, "--messages", msgs)
    assert r.returncode == 1
    err = r.stderr.decode()
    assert err.count("\n") == 1 and "no chat template" in err
    r = run("--model", NO_TEMPLATE, "--template", "llama3", "--messages", msgs)
    assert r.returncode == 0, r.stderr
    # The model's BOS text comes from the GGUF vocabulary.
    assert r.stdout.decode() == ("<s><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>"
                                 "<|start_header_id|>assistant<|end_header_id|>\n\n")


def test_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.jinja"
    bad.write_text("{% for m in messages %}{{ m.role ", encoding="utf-8")
    cases = [
        ("--template", "chatml", "--messages", "not json"),
        ("--template", "chatml", "--messages", '{"role": "user"}'),
        ("--template", "no-such-template", "--messages", "[]"),
        ("--template", bad, "--messages", "[]"),
        ("--template", DATA / "gemma2.jinja", "--messages", '[{"role": "system", "content": "s"}]'),
        ("--model", "/nonexistent/model.gguf", "--messages", "[]"),
    ]
    for args in cases:
        r = run(*args)
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        assert r.stdout == b""
        assert r.stderr.decode().count("\n") == 1, r.stderr
    assert b"System role not supported" in run(*cases[4]).stderr
    assert b"line 1" in run(*cases[3]).stderr


def test_usage_errors():
    assert run().returncode == 2
    assert run("--messages", "[]").returncode == 2
    assert run("--template", "chatml").returncode == 2
    assert run("--help").returncode == 0
