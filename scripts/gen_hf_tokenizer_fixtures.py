#!/usr/bin/env python3
"""Golden fixtures for the byte-level BPE tokenizer, made by Hugging Face `tokenizers`.

Needs the PyPI package `tokenizers` (tested with 0.23.3), which the tests do NOT need: install it in a
scratch venv, e.g.
    python3 -m venv /tmp/tokvenv && /tmp/tokvenv/bin/pip install tokenizers
    /tmp/tokvenv/bin/python scripts/gen_hf_tokenizer_fixtures.py

Writes
  tests/data/hf_tokenizer_smollm2.tsv   SmolLM2-135M-Instruct's tokenizer.json on >= 500 strings
      hex(text) TAB ids TAB ids_no_special TAB hex(decode(ids))
      ids: encode(text, add_special_tokens=False) (added tokens in the text are matched);
      ids_no_special: the same with encode_special_tokens=True (special-token texts stay text),
      "=" when equal to ids; decode with skip_special_tokens=False.
  tests/data/hf_tokenizer_pretok.tsv    the pre-tokenizer regexes of byte-level models, each run
      as Split(Regex, "isolated") on random strings
      rule TAB hex(text) TAB byte lengths of the pieces (comma separated)

Strings are generated deterministically (fixed seed) from pools of ASCII, code, CJK, emoji,
combining marks, RTL scripts, whitespace and numeric characters, plus hand-picked edge cases.
Characters are limited to Unicode 13 (what the C++ side's utf8proc knows).
"""
import os
import random
import sys

from tokenizers import Regex, Tokenizer, pre_tokenizers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("AUTOGLM_SHARED_MODELS", os.path.join(ROOT, "..", "shared", "models"))
DATA = os.path.join(ROOT, "tests", "data")

POOLS = {
    "ascii": [chr(c) for c in range(0x21, 0x7F)],
    "letters": list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    "digits": list("0123456789"),
    "space": [" "] * 6 + ["\t", "\n", "\r", "\r\n", "  ", "\u00a0", "\u3000", "\u2003", "\u2028", "\u0085",
                         "\u000b", "\u000c", "\u202f"],
    "latin": list("éèêëàâäæçñöøœßüÿÀÉÎÕÜŁłőűžšĳǅǈ") + ["\u017f", "\u212a", "\u00b5"],
    "greek_cyr": list("αβγδεζηθλμπσςωΩΔΣάέίόύώϐϑабвгдежзийклмнопрстуфхцчшщъыьэюяЖЩЯЁ"),
    "cjk": [chr(c) for c in range(0x4E00, 0x4E00 + 400)] + list("我想在工作天你好世界中文日本語") +
           [chr(c) for c in range(0x3041, 0x3097)] + [chr(c) for c in range(0x30A1, 0x30FB)] +
           [chr(c) for c in range(0xAC00, 0xAC00 + 200)] + list("。、！？「」『』（）：；～"),
    "emoji": ["😀", "😁", "🦙", "🚀", "✅", "❤️", "👍🏽", "👨‍👩‍👧", "😶‍🌫️", "🇫🇷", "🇯🇵", "🌍", "🔥", "🤖", "🙏🏻",
              "☕", "⭐", "\ufe0f", "\u200d", "🧑‍💻", "🏳️‍🌈"],
    "combining": ["\u0301", "\u0300", "\u0308", "\u0323", "\u0327", "\u20dd", "e\u0301", "a\u030a", "n\u0303",
                  "\u0915\u094d\u0937", "\u0928\u092e\u0938\u094d\u0924\u0947", "\u0e01\u0e34\u0e19",
                  "\u1780\u17b6\u1793\u17cb", "\u0f00"],
    "rtl": list("אבגדהוזחטיכלמנסעפצקרשתםןףץך") + list("ابتثجحخدذرزسشصضطظعغفقكلمنهوي") +
           ["\u064b", "\u0651", "\u200f", "\u200e", "\u202b", "\u202c"] + list("٠١٢٣٤٥٦٧٨٩۰۱۲۳"),
    "numbers": list("½¼¾²³¹Ⅻⅷ⑤０１２３４５６７８９") + ["3.14", "1,000", "1e-9", "0x1F", "2024", "333333", "-42"],
    "punct": list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~«»‘’“”…—–·•¡¿§¶†‡※"),
    "contractions": ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Ve", "'LL", "'D", "'\u017f"],
    "code": ["def ", "return ", "if (x == 0) {", "}", "    ", "\t\t", "std::vector<int>", "->", "=>", "&&", "||",
             "/* */", "// ", "#include <stdio.h>", "print(f\"{x}\")", "self.", "[]", "{}", "();", "0xFF", "i++",
             "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<fim_prefix>", "<im_start>"],
    "words": ["Hello", "world", "the", "The", "tokenizer", "Open", "AutoGLM", "don't", "we've", "y'all", "GPT",
              "naïve", "café", "Ünïcödé", "straße", "Москва", "Ελλάδα", "東京", "서울", "مرحبا", "שלום", "नमस्ते"],
}
WEIGHTS = {"ascii": 3, "letters": 4, "digits": 2, "space": 5, "latin": 2, "greek_cyr": 2, "cjk": 3, "emoji": 2,
           "combining": 2, "rtl": 2, "numbers": 2, "punct": 2, "contractions": 2, "code": 2, "words": 5}


def random_string(rng, max_items):
    names = list(POOLS)
    weights = [WEIGHTS[n] for n in names]
    out = []
    for _ in range(rng.randint(1, max_items)):
        pool = POOLS[rng.choices(names, weights)[0]]
        item = rng.choice(pool)
        if rng.random() < 0.15:
            item = item * rng.randint(2, 5)  # runs: spaces, digits, punctuation, letters
        out.append(item)
    return "".join(out)


def hand_picked():
    s = [
        "", " ", "  ", "   ", "\t", "\n", "\n\n", "\n\n\n", "\t\n", " \n", "\n ", "a\n\nb", "a \n b", "x  \n\n y",
        "Hello world", " Hello world", "Hello World!", "Hello, world!", "  Hello", "    Hello\n    Hello",
        "ied 4 ½ months", "Äpfel", "w048 7tuijk dsdfhu", "нещо на Български", "កាន់តែពិសេសអាចខលចេញ",
        "🚀 (normal) 😶‍🌫️ (multiple emojis concatenated) ✅ (only emoji that has its own token)",
        "Hello, y'all! How are you 😁 ?我想在apple工作1314151天～", "!!!!!!", "3", "33", "333", "3333", "33333",
        "3.3", "3..3", "3...3", "Cửa Việt", " discards", "' era", "\n =", " (", "I've been 'told he's there",
        "'RE you sure? 'M not sure I'll make it, 'D you like some tea? We'Ve a'lL",
        "it's 'ſ 'ſt", "\u00a0\u00a0x", "a\u3000\u3000b", "a\u2028b", "x\u0085y", "\r\n\r\n", " \r\n ", "\t\t\tx",
        "e\u0301e\u0301", "\u0301", "ﬁ ﬂ", "١٢٣ ٤٥", "مرحبا بالعالم", "שָׁלוֹם עוֹלָם", "Ⅻ ⅷ²", "０１２３",
        "<|im_start|>user\nHi<|im_end|>\n", "<|im_start|><|im_end|>", "a<|endoftext|>b", "<|im_end", "|im_end|>",
        "def f(x):\n    return x ** 2\n", "int main() { return 0; }", "for (int i = 0; i < n; ++i) {}",
        "https://example.com/path?q=1&r=2", "user@example.com", "$100.00 + 5% = $105", "C++ && C#",
        "😀😀😀", "👨‍👩‍👧‍👦", "🇫🇷🇯🇵", "a" * 200, " " * 50, "1" * 40, "\n" * 20, "ab" * 60,
        "The quick brown fox jumps over the lazy dog.", "THE QUICK BROWN FOX", "naïve café façade",
    ]
    return s


def pretok_rules():
    # The C++ side recognises these exact strings (PreTokenizer::rule_for_regex).
    cased = ("A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-"
             "\u1f7dᾀ-ᾴᾶ-ᾼ\u1fbeῂ-ῄῆ-ῌῐ-\u1fd3ῖ-\u1fdbῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\u2126ℨ\u212a-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳ"
             "Ꙁ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃")
    return {
        "gpt2": r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+",
        "llama3": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                  r"\s*[\r\n]+|\s+(?!\S)|\s+",
        "qwen2": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                 r"\s*[\r\n]+|\s+(?!\S)|\s+",
        "digit": r"\p{N}",
        "digit_run": r"\p{N}+",
        "three_digits": "[0-9][0-9][0-9]",
        "newline": "[\r\n]",
        "space_letters": r"\s?\p{L}+",
        "space_punct": r"\s?\p{P}+",
        "deepseek_cased": r"\s?[" + cased + "]+",
        "deepseek_punct": r"\s?[!-/:-~！-／：-～‘-‟　-。]+",
        "trailing_space": r"\s+$",
        "deepseek_cjk": "[一-龥ࠀ-一가-퟿]+",
    }


def main():
    rng = random.Random(20261123)
    tok = Tokenizer.from_file(os.path.join(SHARED, "smollm2-135m-instruct", "tokenizer.json"))
    texts = hand_picked()
    while len(texts) < 560:
        texts.append(random_string(rng, 24))
    lines = []
    for t in texts:
        tok.encode_special_tokens = False
        ids = tok.encode(t, add_special_tokens=False).ids
        tok.encode_special_tokens = True
        plain = tok.encode(t, add_special_tokens=False).ids
        tok.encode_special_tokens = False
        dec = tok.decode(ids, skip_special_tokens=False)
        plain_s = "=" if plain == ids else " ".join(map(str, plain))
        lines.append("\t".join([t.encode().hex(), " ".join(map(str, ids)), plain_s, dec.encode().hex()]))
    path = os.path.join(DATA, "hf_tokenizer_smollm2.tsv")
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{path}: {len(lines)} strings, {os.path.getsize(path)} bytes")

    rng = random.Random(7)
    lines = []
    edge = ["a  b", "a \n b", "x  \n\n y", "it's 'S 'ſ", "3333333", " \t ", "abc  ", "\n\n a", "你好 世界 ",
            "ab.,;cd", " 'll", "x\r\n\r\ny", "  \u3000 z"]
    for name, pattern in pretok_rules().items():
        split = pre_tokenizers.Split(Regex(pattern), behavior="isolated")
        for t in edge + [random_string(rng, 14) for _ in range(45)]:
            pieces = split.pre_tokenize_str(t)
            assert "".join(p for p, _ in pieces) == t, (name, t)
            lens = ",".join(str(len(p.encode())) for p, _ in pieces)
            lines.append("\t".join([name, t.encode().hex(), lens]))
    path = os.path.join(DATA, "hf_tokenizer_pretok.tsv")
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{path}: {len(lines)} lines, {os.path.getsize(path)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
