#!/usr/bin/env python3
"""Small tokenizers we train ourselves (Unigram, WordLevel) and their golden ids, by Hugging Face `tokenizers`.

Needs PyPI tokenizers (scripts/requirements-test.txt). No downloads: the training corpus is built here.
    .venv/bin/python scripts/gen_hf_trained_fixtures.py [--retrain]
(Unigram training differs run to run, so the committed unigram.json is reused unless --retrain.)

Writes tests/data/hf_trained/<name>.json (ours to commit) and tests/data/hf_tokenizer_trained.tsv with the
columns of gen_hf_llama2_fixtures.py (first column: the tokenizer's name):
  unigram        UnigramTrainer, vocab 800: normalizer Sequence[Nmt, NFKC], Metaspace(always, split) pre-tokenizer
                 and decoder, TemplateProcessing "<s> $A </s>"; characters outside the corpus (emoji, RTL,
                 most CJK) are unk
  unigram_bf     the same pieces plus <0x00>..<0xFF> with byte_fallback, decoder Sequence[Replace("▁", " "),
                 ByteFallback, Fuse, Strip(1 left)], Metaspace(first, no split)
  unigram_added  `unigram` plus added tokens with lstrip/rstrip/single_word/normalized
  wordlevel      WordLevelTrainer, vocab 300: Sequence[NFKC, Lowercase], WhitespaceSplit, no decoder,
                 TemplateProcessing "[CLS] $A [SEP]"
  bpe_added      byte-level BpeTrainer, vocab 600, NFC, with the added tokens of unigram_added
Strings: the first of gen_hf_llama2_fixtures.texts() (hand-picked, around added tokens, then random): 540 for
unigram, 300 for unigram_bf, unigram_added and bpe_added, 200 for wordlevel.
"""
import json
import os
import random
import sys

from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_hf_llama2_fixtures as llama2  # noqa: E402  (strings and fixture line format)
import gen_hf_tokenizer_fixtures as base  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "hf_trained")
FIXTURE = os.path.join(ROOT, "tests", "data", "hf_tokenizer_trained.tsv")

# (content, special, lstrip, rstrip, single_word, normalized)
ADDED = llama2.ADDED + [("\ufb01x", False, False, False, False, True)]  # NFKC: "fix"


def corpus():
    rng = random.Random(5)
    words = base.POOLS["words"] + ["token", "model", "engine", "fast", "slow", "text", "the", "of", "and", "a", "to",
                                   "in", "is", "for", "with", "on", "fix", "both", "mask", "sep", "word", "code"]
    pools = [base.POOLS[n] for n in ("ascii", "letters", "digits", "latin", "greek_cyr", "punct", "code")]
    lines = []
    for _ in range(3000):
        parts = []
        for _ in range(rng.randint(3, 14)):
            parts.append(rng.choice(words) if rng.random() < 0.7 else "".join(
                rng.choice(rng.choice(pools)) for _ in range(rng.randint(1, 4))))
        lines.append(" ".join(parts))
    lines += ["你好世界", "我想在工作", "東京 서울"] * 20
    return lines


def unigram():
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.Sequence([normalizers.Nmt(), normalizers.NFKC()])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    trainer = trainers.UnigramTrainer(vocab_size=800, special_tokens=["<unk>", "<s>", "</s>"], unk_token="<unk>",
                                      show_progress=False)
    tok.train_from_iterator(corpus(), trainer)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 1), ("</s>", 2)])
    return tok


def unigram_bf(uni):
    doc = json.loads(uni.to_str())
    doc["model"]["vocab"] += [[f"<0x{b:02X}>", 0.0] for b in range(256)]
    doc["model"]["byte_fallback"] = True
    doc["pre_tokenizer"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False}
    doc["decoder"] = {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "}, {"type": "ByteFallback"},
        {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    return Tokenizer.from_str(json.dumps(doc))


def wordlevel():
    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    trainer = trainers.WordLevelTrainer(vocab_size=300, special_tokens=["[UNK]", "[CLS]", "[SEP]"], show_progress=False)
    tok.train_from_iterator(corpus(), trainer)
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]",
                                                       special_tokens=[("[CLS]", 1), ("[SEP]", 2)])
    return tok


def bytelevel_bpe():
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=["<|endoftext|>"], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus(), trainer)
    tok.add_tokens([AddedToken(c, special=s, lstrip=l, rstrip=r, single_word=w, normalized=n)
                    for c, s, l, r, w, n in ADDED])
    return tok


def main():
    os.makedirs(OUT, exist_ok=True)
    # Unigram training is not reproducible run to run: keep the committed file unless --retrain.
    uni_path = os.path.join(OUT, "unigram.json")
    uni_trained = "--retrain" in sys.argv or not os.path.exists(uni_path)
    uni = unigram() if uni_trained else Tokenizer.from_file(uni_path)
    added = Tokenizer.from_str(uni.to_str())
    added.add_tokens([AddedToken(c, special=s, lstrip=l, rstrip=r, single_word=w, normalized=n)
                      for c, s, l, r, w, n in ADDED])
    toks = {"unigram": uni, "unigram_bf": unigram_bf(uni), "unigram_added": added, "wordlevel": wordlevel(),
            "bpe_added": bytelevel_bpe()}
    extra = ["fix", "\ufb01x", "a fix b", "prefix", "\ufb01x\ufb01x"]
    counts = {"unigram": 540, "unigram_bf": 300, "unigram_added": 300, "wordlevel": 200, "bpe_added": 300}
    lines = []
    for name, tok in toks.items():
        path = os.path.join(OUT, name + ".json")
        if tok is not uni or uni_trained:  # re-saving a loaded file would change its floats (HF's parser)
            tok.save(path)
        tok = Tokenizer.from_file(path)  # the fixture is what the committed file does
        lines += llama2.case_lines(tok, name, extra + llama2.texts()[:counts[name]])
        print(f"{path}: vocab {tok.get_vocab_size()}, {os.path.getsize(path)} bytes")
    llama2.write_fixture(FIXTURE, lines, len(lines))


if __name__ == "__main__":
    main()
