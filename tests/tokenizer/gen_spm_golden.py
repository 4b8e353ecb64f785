#!/usr/bin/env python3
"""Generates the tokenizer golden data in tests/tokenizer/data/ from independent references.

1. spm_llama_random.tsv: random Unicode strings encoded and decoded by the real SentencePiece
   library (pip package `sentencepiece`) with Llama 2's tokenizer.model from ../shared/models.
   That vocabulary is the one in ggml-vocab-llama-spm.gguf. Each line holds
   hex(utf-8 text) <TAB> space-separated ids (no BOS) <TAB> hex(sp.decode(ids)).
2. stories260k_llama2c.tsv: prompts encoded by a Python port of llama2.c's encode() (run.c: dummy
   prefix " ", per-code-point lookup with byte fallback (+3), then repeatedly merge the adjacent
   pair with the highest vocab score, leftmost on ties) over llama2.c's own tok512.bin. Lines hold
   hex(prompt) <TAB> ids after BOS.

Run: python3 tests/tokenizer/gen_spm_golden.py   (needs `pip install sentencepiece`)
"""
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, '..', '..', '..', 'shared', 'models')
OUT = os.path.join(HERE, 'data')


def random_text(rng):
    pools = [
        'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', '0123456789', '     ',
        '\n\t\r', '.,;:!?\'"()[]{}<>-_=+*/\\|@#$%^&~`', 'äöüßéèêàçñåøæÀÉÖÜ',
        'абвгдеёжзийклмнопрстуфхцчшщъыьэюя', '中文字符测试你好世界我想在工作', 'ひらがなカタカナ', '한국어',
        'αβγδεζηθ', '\u0301\u0308\u200d\ufe0f',
        '😀😁🚀🦙👍🏽🇩🇪', '\u2581\u2047\ufffd', 'ក្រុមហ៊ុន', 'العربية', '\x00\x01\x7f',
    ]
    n = rng.randint(0, 40)
    s = []
    for _ in range(n):
        pool = rng.choice(pools)
        s.append(rng.choice(pool))
        if rng.random() < 0.3:
            s.append(' ')
    words = ['Hello', ' world', ' the', ' of', 'ing', ' Once upon a time', '  ', 'tion', ' 2024', 'llama']
    for _ in range(rng.randint(0, 4)):
        s.insert(rng.randint(0, len(s)), rng.choice(words))
    return ''.join(s)


def gen_sentencepiece():
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=os.path.join(SHARED, 'llama2-tokenizer', 'tokenizer.model'))
    rng = random.Random(1234)
    lines = []
    for _ in range(300):
        text = random_text(rng)
        ids = sp.encode(text)
        dec = sp.decode(ids)
        lines.append('%s\t%s\t%s' % (text.encode().hex(), ' '.join(map(str, ids)), dec.encode().hex()))
    with open(os.path.join(OUT, 'spm_llama_random.tsv'), 'w') as f:
        f.write('\n'.join(lines) + '\n')


def load_llama2c_tokenizer(path):
    data = open(path, 'rb').read()
    (max_len,) = struct.unpack_from('<i', data, 0)
    off = 4
    vocab, scores = [], []
    for _ in range(512):
        score, n = struct.unpack_from('<fi', data, off)
        off += 8
        vocab.append(data[off:off + n])
        scores.append(score)
        off += n
    return vocab, scores


def llama2c_encode(text, vocab, scores):
    lookup = {}
    for i, t in enumerate(vocab):
        lookup.setdefault(t, i)
    tokens = []
    raw = text.encode()
    if raw:
        tokens.append(lookup[b' '])
    i = 0
    while i < len(raw):
        j = i + 1
        while j < len(raw) and (raw[j] & 0xC0) == 0x80 and j - i < 4:
            j += 1
        cp = raw[i:j]
        if cp in lookup:
            tokens.append(lookup[cp])
        else:
            tokens.extend(b + 3 for b in cp)
        i = j
    while True:
        best, best_id, best_idx = -1e10, -1, -1
        for k in range(len(tokens) - 1):
            merged = vocab[tokens[k]] + vocab[tokens[k + 1]]
            if merged in lookup and scores[lookup[merged]] > best:
                best, best_id, best_idx = scores[lookup[merged]], lookup[merged], k
        if best_idx < 0:
            break
        tokens[best_idx:best_idx + 2] = [best_id]
    return tokens


def gen_llama2c():
    vocab, scores = load_llama2c_tokenizer(os.path.join(SHARED, 'stories260K', 'tok512.bin'))
    prompts = ['There was a big', 'Once upon a time', 'Lily and Ben went to the park.',
               'She said, "I want to play!"', '  two leading spaces', 'a\nb', 'Tom\'s dog']
    with open(os.path.join(OUT, 'stories260k_llama2c.tsv'), 'w') as f:
        for p in prompts:
            f.write('%s\t%s\n' % (p.encode().hex(), ' '.join(map(str, llama2c_encode(p, vocab, scores)))))


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    gen_llama2c()
    gen_sentencepiece()
