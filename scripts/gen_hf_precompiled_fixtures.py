#!/usr/bin/env python3
"""SentencePiece Unigram models with a precompiled_charsmap, converted to tokenizer.json by transformers,
and their golden ids by Hugging Face `tokenizers`.

Needs PyPI sentencepiece, transformers, protobuf, tokenizers (scripts/requirements-test.txt; no torch).
No downloads: the training corpus is built here.
    .venv/bin/python scripts/gen_hf_precompiled_fixtures.py [--retrain]
(The committed tokenizer.json files are reused unless --retrain or missing.)

Writes tests/data/hf_trained/<name>.json (ours to commit) and tests/data/hf_tokenizer_precompiled.tsv with the
columns of gen_hf_llama2_fixtures.py (first column: the tokenizer's name):
  t5_nfkc       spm Unigram, vocab 1000, normalization_rule_name nmt_nfkc, converted by T5Converter (Precompiled,
                Strip(right), Replace(Regex " {2,}", "\u2581"), Metaspace, "$A </s>", 3 extra ids)
  albert_cf     spm Unigram, vocab 1000, nmt_nfkc_cf (case folding in the charsmap), AlbertConverter with
                keep_accents and no lower-casing (Replace ``/'' , Precompiled, Replace(Regex " {2,}", " "),
                "[CLS] $A [SEP]")
  albert_lower  the nmt_nfkc model through AlbertConverter with lower-casing and accent stripping (NFKD,
                StripAccents, Lowercase before Precompiled)
Strings: normalization edge cases (full-width forms, ligatures, compatibility characters, combining marks,
controls, CJK, emoji, whitespace runs), random strings of characters that NFKC changes, and the first of
gen_hf_llama2_fixtures.texts(): 600 for t5_nfkc and albert_cf, 300 for albert_lower. The random strings depend
on Python's unicodedata tables; the committed fixture was made with Python 3.11, sentencepiece 0.2.3,
transformers 5.23.0 and tokenizers 0.23.3.
"""
import json
import os
import random
import sys
import tempfile
import types
import unicodedata

from tokenizers import Tokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_hf_llama2_fixtures as llama2  # noqa: E402  (strings and fixture line format)
import gen_hf_tokenizer_fixtures as base  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "hf_trained")
FIXTURE = os.path.join(ROOT, "tests", "data", "hf_tokenizer_precompiled.tsv")
NAMES = ["t5_nfkc", "albert_cf", "albert_lower"]
COUNTS = {"t5_nfkc": 600, "albert_cf": 600, "albert_lower": 300}


def corpus():
    rng = random.Random(11)
    words = base.POOLS["words"] + ["token", "model", "Engine", "FAST", "slow", "text", "the", "of", "and", "a", "to",
                                   "in", "is", "for", "with", "on", "fix", "file", "office", "Straße", "ÉCOLE"]
    pools = [base.POOLS[n] for n in ("ascii", "letters", "digits", "latin", "greek_cyr", "punct", "code", "cjk")]
    lines = []
    for _ in range(3000):
        parts = []
        for _ in range(rng.randint(3, 14)):
            parts.append(rng.choice(words) if rng.random() < 0.7 else "".join(
                rng.choice(rng.choice(pools)) for _ in range(rng.randint(1, 4))))
        lines.append(" ".join(parts))
    return lines


def train_spm(name, rule, tmp, ids):
    import sentencepiece as spm

    prefix = os.path.join(tmp, name)
    spm.SentencePieceTrainer.train(sentence_iterator=iter(corpus()), model_prefix=prefix, model_type="unigram",
                                   vocab_size=1000, normalization_rule_name=rule, character_coverage=0.9995,
                                   num_threads=1, minloglevel=2, **ids)
    return prefix + ".model"


def piece_ids(model_file):
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=model_file)
    return {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}


def convert(converter_name, model_file, **attrs):
    """tokenizer.json text made by transformers' converter from a slow-tokenizer stand-in."""
    import transformers.convert_slow_tokenizer as conv

    ids = piece_ids(model_file)
    orig = types.SimpleNamespace(vocab_file=model_file, convert_tokens_to_ids=lambda t: ids[t], **attrs)
    return getattr(conv, converter_name)(orig).converted().to_str()


def build(tmp):
    t5_ids = dict(pad_id=0, eos_id=1, unk_id=2, bos_id=-1)
    albert_ids = dict(pad_id=0, unk_id=1, bos_id=2, eos_id=3, bos_piece="[CLS]", eos_piece="[SEP]")
    nfkc = train_spm("t5", "nmt_nfkc", tmp, t5_ids)
    nfkc_albert = train_spm("albert", "nmt_nfkc", tmp, albert_ids)
    cf = train_spm("albert_cf", "nmt_nfkc_cf", tmp, albert_ids)
    return {
        "t5_nfkc": convert("T5Converter", nfkc, _extra_ids=3),
        "albert_cf": convert("AlbertConverter", cf, keep_accents=True, do_lower_case=False),
        "albert_lower": convert("AlbertConverter", nfkc_albert, keep_accents=False, do_lower_case=True),
    }


def nfkc_changed_chars():
    """Characters below U+30000 that NFKC or case folding changes (the charsmap's keys, roughly)."""
    out = []
    for c in range(0x80, 0x30000):
        ch = chr(c)
        if unicodedata.category(ch) in ("Cs", "Cn"):
            continue
        if unicodedata.normalize("NFKC", ch) != ch or ch.casefold() != ch:
            out.append(ch)
    return out


def texts():
    rng = random.Random(20261123)
    out = [
        "ＡＢＣ ａｂｃ １２３ ！？", "Ｈｅｌｌｏ，　Ｗｏｒｌｄ！", "ｶﾀｶﾅ ﾊﾟﾋﾟﾌﾟ ｶﾞｷﾞ", "ﬁle ﬂow ﬀ ﬃ ﬄ ﬅ ﬆ", "ǅ ǈ ǋ Ĳ ĳ ŉ",
        "① ② ⑳ ⑴ ⒜ ㈱ ㍻ ㎏ ㎞ ℃ ℉ № ™ ℡", "½ ¼ ¾ ⅓ ⅞ ² ³ ¹ ⁴ ₅", "Ⅰ Ⅱ Ⅻ ⅰ ⅻ", "µ Ω Å K ſ ẞ ß", "x\u00a0y\u2003z\u3000w",
        "e\u0301 a\u0308 o\u0302\u0323 \u0301x", "ﾞﾟ", "\u1100\u1161\u11a8 \uac01", "Straße STRASSE straße", "İstanbul ıi",
        "ΣΑΣ σας ς", "ǰ ΐ ﬓ", "\u0000a\u0001b\u0007c\u001fd\u007fe\u0080f\u009fg", "\u200b\u200c\u200d\u2060\ufeff",
        "\u00ad soft\u00adhyphen", "a\u2028b\u2029c", "a\tb\nc\rd\u000be\u000cf", "   ", "a    b", " a  b   c    ",
        "\t\t x \n\n y \r\n", "  leading", "trailing  ", "\u3000\u3000全角\u3000", "東京 서울 北京 大阪", "你好，世界！",
        "😀 🦙 👍🏽 👨‍👩‍👧 🇫🇷 ❤️", "\U0001d400\U0001d401\U0001d7ce", "\u2460\u2461", "\uff5e\uff5f\uffe0\uffe5",
        "\u2126\u212b\u2160", "``quoted''", "``", "''", "a``b''c", "\u2581 \u2581\u2581", "\ufffd", "\U0010ffff",
        "\u0e01\u0e33 \u0eb3 \u0f77", "\u1e9b\u0323", "\u0958\u0929", "\u2f00\u2fd5", "\u3131\u314f", "\u32ff\u33ff",
        "\ufdfa\ufdfb", "\ufe10\ufe19\ufe30", "\uff01\uff5e", "\U0001f100\U0001f130\U0001f250", "\U0002f800\U0002fa1d",
        "A\u030a\u0327", "\u1fbf\u1ffe", "\u03d2\u0301", "\u0387", "\u037e;", "\u2024\u2025\u2026", "\u2033\u2034",
        "\u00a8\u00af\u00b4\u00b8", "\u02d8\u02d9", "\u0340\u0341\u0343\u0344",
        # HF replaces a whole grapheme cluster under 6 bytes by its shortest prefix rule
        "\uff21\u0301", "x\r\ny", "\ufb01\u0301", "e\u0301\u0301", "\uff76\uff9e", "\u1100\u1161", "A\u0301\u0302",
        "\u2460\u0308", "\u00c5\u030a", "K\u0301 \u212a\u0301", "\u0000x", "a\u0000\u0301",
    ]
    changed = nfkc_changed_chars()
    pools = [changed, changed, base.POOLS["space"], base.POOLS["letters"], base.POOLS["words"], base.POOLS["cjk"],
             base.POOLS["emoji"], base.POOLS["combining"], [chr(c) for c in range(0, 0x20)] + ["\x7f", "\x85", "\x9f"]]
    for _ in range(260):
        out.append("".join(rng.choice(rng.choice(pools)) for _ in range(rng.randint(1, 16))))
    for c in range(0, len(changed), 97):  # a walk through the whole table
        out.append(" ".join(changed[c:c + 5]))
    return out + llama2.texts()


def main():
    os.makedirs(OUT, exist_ok=True)
    paths = {n: os.path.join(OUT, n + ".json") for n in NAMES}
    if "--retrain" in sys.argv or not all(os.path.exists(p) for p in paths.values()):
        with tempfile.TemporaryDirectory() as tmp:
            docs = build(tmp)
        for n in NAMES:
            Tokenizer.from_str(docs[n]).save(paths[n])
    strings = texts()
    lines = []
    for n in NAMES:
        tok = Tokenizer.from_file(paths[n])  # the fixture is what the committed file does
        norm = json.loads(tok.to_str())["normalizer"]
        assert any(s.get("type") == "Precompiled" for s in norm["normalizers"]), n
        lines += llama2.case_lines(tok, n, strings[:COUNTS[n]])
        print(f"{paths[n]}: vocab {tok.get_vocab_size()}, {os.path.getsize(paths[n])} bytes")
    llama2.write_fixture(FIXTURE, lines, len(lines))


if __name__ == "__main__":
    main()
