#!/usr/bin/env python3
"""Writes tests/data/golden_stories260K.json from the NumPy reference (scripts/reference_forward.py).

For each prompt: the prompt ids (BOS first), 64 greedy ids, their decoded text and the top-5
(id, logit) after the prompt. Decoding stops after EOS (id 2; the EOS id is recorded, it has no
text); BOS (id 1) is not a stop token here. The script refuses to write a case whose generation
contains BOS or EOS, so every case runs the full 64 tokens and no stop rule is exercised by accident.

Run: .venv/bin/python scripts/gen_golden.py [--models /work/shared/models] [--out tests/data/golden_stories260K.json]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_forward as rf  # noqa: E402

PROMPTS = ["", "Once upon a time", "There was a big", "Lily and Tom", "The cat sat on the mat. It", "Café ☕ naïve"]
N_PREDICT = 64
MODEL = "stories260K/stories260K.gguf"


def main() -> int:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser()
    default_models = os.environ.get("AUTOGLM_SHARED_MODELS", os.path.join(root, "..", "shared", "models"))
    ap.add_argument("--models", default=default_models)
    ap.add_argument("--out", default=os.path.join(root, "tests", "data", "golden_stories260K.json"))
    args = ap.parse_args()

    path = os.path.join(args.models, MODEL)
    with open(path, "rb") as f:
        sha256 = hashlib.sha256(f.read()).hexdigest()
    model = rf.Model(path, np.float32, "adjacent")
    special = (model.vocab.bos, model.vocab.eos)
    cases = []
    for prompt in PROMPTS:
        prompt_ids = model.vocab.encode(prompt)
        ids, logits = model.generate(prompt_ids, N_PREDICT, stop=(model.vocab.eos,))
        if any(t in special for t in ids):
            raise SystemExit(f"prompt {prompt!r}: generation contains BOS/EOS; pick another prompt")
        text_bytes = model.vocab.decode_bytes(ids, prev=prompt_ids[-1])
        top = np.argsort(-logits, kind="stable")[:5]
        cases.append({
            "prompt": prompt,
            "prompt_ids": prompt_ids,
            "generated_ids": ids,
            "generated_text": text_bytes.decode("utf-8", errors="replace"),
            "generated_text_is_valid_utf8": _valid_utf8(text_bytes),
            "top5_after_prompt": {"token_ids": [int(t) for t in top],
                                  "logits": [round(float(logits[t]), 4) for t in top]},
        })
    golden = {
        "generator": "scripts/gen_golden.py over scripts/reference_forward.py (NumPy, float32, adjacent-pair RoPE)",
        "model": MODEL,
        "model_sha256": sha256,
        "n_predict": N_PREDICT,
        "decoding": "greedy (argmax, lowest id wins ties); stop after EOS id 2 (never reached in these cases)",
        "text": "generated_text decodes generated_ids only (not the prompt), each piece following the previous "
                "token: '\u2581' -> ' ', <0xNN> -> byte, control tokens -> '', and a piece right after BOS loses "
                "its leading space (so only the empty prompt's first token is stripped)",
        "cases": cases,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {args.out}: {len(cases)} cases")
    return 0


def _valid_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


if __name__ == "__main__":
    sys.exit(main())
