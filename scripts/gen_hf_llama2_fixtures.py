#!/usr/bin/env python3
"""Golden fixture for Llama-2-style (SentencePiece-converted, byte_fallback BPE) tokenizer.json files.

The tokenizer.json is made from ../shared/models/llama2-tokenizer/tokenizer.model (the real Llama 2
SentencePiece model) by transformers' converter, and is NOT committed (Llama 2 license): the test
(tests/py/test_hf_llama2_tokenizer.py) rebuilds it with build_variants() into a temp dir. Only the
expected ids and decodes, computed by Hugging Face `tokenizers` on those files, are committed.

Needs PyPI transformers, sentencepiece, protobuf, tokenizers (scripts/requirements-test.txt; no torch):
    .venv/bin/python scripts/gen_hf_llama2_fixtures.py

Variants (each a tokenizer.json written by build_variants):
  always   transformers' LlamaTokenizer(legacy=True): Metaspace(prepend_scheme="always", split=False)
  first    LlamaTokenizer(legacy=False): Metaspace(prepend_scheme="first", split=False)
  prepend  the transformers 4 layout of the same model: normalizer Sequence[Prepend("▁"), Replace(" ", "▁")],
           no pre-tokenizer, TemplateProcessing "<s> $A", plus added tokens with lstrip/rstrip/single_word/
           normalized (ADDED below)
  split    Metaspace(prepend_scheme="always", split=True)

Writes tests/data/hf_tokenizer_llama2.tsv: a header line "# sha256 <variant>=<hash of its tokenizer.json> ..."
(the test checks the rebuilt files match what the fixture was made from), then per string and variant
    variant TAB hex(text) TAB ids TAB ids_no_special TAB hex(decode) TAB hex(decode_skip) TAB ids_with_special
ids: encode(text, add_special_tokens=False); ids_no_special: with encode_special_tokens=True ("=" when
equal to ids); decode: decode(ids, skip_special_tokens=False) ("=" when equal to the text); decode_skip: skip_special_tokens=True ("="
when equal); ids_with_special: encode(text, add_special_tokens=True) ("=" when equal to ids).
The strings are those of gen_hf_tokenizer_fixtures.py plus strings around the added tokens: all 640 for
"always", the first 300 for the other variants (which differ only in the prepend/split rules).
"""
import hashlib
import json
import os
import random
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("AUTOGLM_SHARED_MODELS", os.path.join(ROOT, "..", "shared", "models"))
SPM_DIR = os.path.join(SHARED, "llama2-tokenizer")
DATA = os.path.join(ROOT, "tests", "data")
FIXTURE = os.path.join(DATA, "hf_tokenizer_llama2.tsv")
VARIANTS = ["always", "first", "prepend", "split"]

# (content, special, lstrip, rstrip, single_word, normalized)
ADDED = [
    ("<mask>", True, True, False, False, False),
    ("<sep>", True, False, True, False, False),
    ("[WORD]", False, False, False, True, False),
    ("both", False, True, True, False, False),
    ("<norm>", False, False, False, False, True),
    ("<|x|>", True, True, True, True, False),
]


def _convert(legacy):
    from transformers import LlamaTokenizer

    tok = LlamaTokenizer.from_pretrained(SPM_DIR, legacy=legacy)
    return json.loads(tok.backend_tokenizer.to_str())


def build_variants(out_dir):
    """Writes <variant>.json into out_dir; returns {variant: path}."""
    from tokenizers import AddedToken, Tokenizer

    base = _convert(legacy=True)
    docs = {"always": base, "first": _convert(legacy=False)}
    prepend = json.loads(json.dumps(base))
    prepend["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": "\u2581"},
        {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}
    prepend["pre_tokenizer"] = None
    prepend["post_processor"] = {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                 {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}}
    docs["prepend"] = prepend
    split = json.loads(json.dumps(base))
    split["pre_tokenizer"]["split"] = True
    docs["split"] = split
    os.makedirs(out_dir, exist_ok=True)
    paths = {}
    for name in VARIANTS:
        tok = Tokenizer.from_str(json.dumps(docs[name]))
        if name == "prepend":
            tok.add_tokens([AddedToken(c, special=s, lstrip=l, rstrip=r, single_word=w, normalized=n)
                            for c, s, l, r, w, n in ADDED])
        path = os.path.join(out_dir, name + ".json")
        tok.save(path)
        paths[name] = path
    return paths


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def texts():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import gen_hf_tokenizer_fixtures as base

    rng = random.Random(20261124)
    out = base.hand_picked() + ["<s>", "a<s>b", " <s> x", "</s></s>", "<unk>", "x <unk> y", "\u2581", "\u2581\u2581a",
                                "a \u2581 b", "\U0001F999\U0001F999", "\u0000", "\x7f\x01"]
    words = ["a", "hello", "x_y", "é", "1", " ", "  ", "\n", "\t", "你好", "!"]
    for _ in range(120):
        parts = [rng.choice([c for c, *_ in ADDED] + words) for _ in range(rng.randint(1, 7))]
        out.append("".join(parts))
    while len(out) < 640:
        out.append(base.random_string(rng, 24))
    return out


def case_lines(tok, variant, strings):
    """The fixture lines (format above) of `tok` (a tokenizers.Tokenizer) on strings."""
    lines = []
    for t in strings:
        tok.encode_special_tokens = False
        ids = tok.encode(t, add_special_tokens=False).ids
        with_special = tok.encode(t, add_special_tokens=True).ids
        tok.encode_special_tokens = True
        plain = tok.encode(t, add_special_tokens=False).ids
        tok.encode_special_tokens = False
        dec = tok.decode(ids, skip_special_tokens=False)
        dec_skip = tok.decode(ids, skip_special_tokens=True)
        lines.append("\t".join([
            variant, t.encode().hex(), " ".join(map(str, ids)),
            "=" if plain == ids else " ".join(map(str, plain)), "=" if dec == t else dec.encode().hex(),
            "=" if dec_skip == dec else dec_skip.encode().hex(),
            "=" if with_special == ids else " ".join(map(str, with_special))]))
    return lines


def write_fixture(path, lines, n_cases):
    """Writes the fixture lines (ASCII, LF) and says how many cases went into it."""
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{path}: {n_cases} cases, {os.path.getsize(path)} bytes")


def main():
    import tempfile

    from tokenizers import Tokenizer

    with tempfile.TemporaryDirectory() as tmp:
        paths = build_variants(tmp)
        lines = ["# sha256 " + " ".join(f"{v}={sha256(paths[v])}" for v in VARIANTS)]
        for v in VARIANTS:
            tok = Tokenizer.from_file(paths[v])
            lines += case_lines(tok, v, texts()[:None if v == "always" else 300])
    write_fixture(FIXTURE, lines, len(lines) - 1)  # the first line is the sha256 header


if __name__ == "__main__":
    main()
