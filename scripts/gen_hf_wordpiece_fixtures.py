#!/usr/bin/env python3
"""Golden ids for the WordPiece tokenizer.json loader, made by Hugging Face `tokenizers`.

Needs the PyPI package `tokenizers` (made with 0.23.3), which the tests do NOT need: install it in
a scratch venv, e.g.
    python3 -m venv /tmp/hfvenv && /tmp/hfvenv/bin/pip install tokenizers
    /tmp/hfvenv/bin/python scripts/gen_hf_wordpiece_fixtures.py

Reads ../shared/models/all-MiniLM-L6-v2/tokenizer.json and writes
  tests/data/hf_tokenizer_minilm.tsv        hex(text) TAB ids TAB hex(decode(ids))
      padding and truncation off, add_special_tokens=True, decode with skip_special_tokens=True
  tests/data/hf_tokenizer_minilm_trunc.tsv  the same for long texts with the file's own
      truncation (max_length 128) left on
Strings: hand-picked edge cases plus random ones from a fixed seed (ASCII, CJK, emoji,
combining marks, accents, RTL scripts, whitespace runs, numbers, code, mixed scripts).
"""

import os
import random
import sys

from tokenizers import Tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "..", "shared", "models", "all-MiniLM-L6-v2", "tokenizer.json")
OUT = os.path.join(ROOT, "tests", "data", "hf_tokenizer_minilm.tsv")
OUT_TRUNC = os.path.join(ROOT, "tests", "data", "hf_tokenizer_minilm_trunc.tsv")

HAND_PICKED = [
    "", " ", "   ", "\t", "\n", "\r\n", "\t\n \r", "Hello world", " Hello World! ", "Hello, world!",
    "HELLO WORLD", "it's 1314151 o'clock, ok?", "don't do not", "I've been 'told he's there",
    "Äpfel", "Cafe\u0301 au lait", "café", "naïve résumé", "Crème brûlée", "\u0130stanbul", "straße STRASSE",
    "ΟΔΥΣΣΕΥΣ οδυσσευς", "Ελληνικά", "нещо на Български", "Привет, мир!", "Ærøskøbing",
    "我想在apple工作1314151天～", "北京欢迎你", "東京タワー", "ひらがな カタカナ", "한국어 텍스트", "中文，标点。",
    "\U00020000\U0002a6df\U0002a700\U0002b740\U0002b81f\U0002b820\U0002b91f\U0002b920\U0002ceaf\U0002f800",
    "\uf900\ufaff\u3400\u4dbf\u9fff\u4e00", "ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３", "ﬁ ﬂ ① ² ½ ™ ℃",
    "🚀 (normal) 😶\u200d🌫️ (multiple emojis concatenated) ✅ (only emoji that has its own token)",
    "👍🏽 👨\u200d👩\u200d👧 🇺🇸 ❤️", "🦙.cpp", "emoji😀inside😀words",
    "مرحبا بالعالم", "שלום עולם", "العربية: ١٢٣٤٥", "\u200fRTL mark\u200e LTR mark", "فارسی‌زبان",
    "कर्मचारी हिन्दी", "ภาษาไทย", "កាន់តែពិសេសអាចខលចេញ", "ქართული \u1c90\u1c91", "Ꭰ ꭰ Cherokee",
    "a\u0300\u0301\u0302\u0303\u0304b", "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319algo",
    "\u0000\u0001\u0002 control \u007f\u0080\u009f", "x\u000by\u000cz\u0085w", "zero\u200bwidth\u200cjoin\u200dx",
    "soft\u00adhyphen", "bom\ufeffinside", "nbsp\u00a0here\u3000ideographic\u2028line\u2029para",
    "\u2000\u2001\u2002\u2003\u2009\u200a\u202f\u205f", "replacement \ufffd char", "private \ue000\uf8ff use",
    "unassigned \U000e0001 \U000f0000", "\U0001d400\U0001d401 math", "\u2160\u2161 roman",
    "3", "33", "333", "3333333", "3.14159", "1,000,000", "-42", "+1 (555) 123-4567", "0x1F 0b1010 1e-9",
    "2024-01-15T10:30:00Z", "100%", "$9.99 €5 ¥100 £3", "#hashtag @mention", "user@example.com",
    "https://example.com/path?q=1&r=2#frag", "C:\\Users\\name\\file.txt",
    "def foo(x):\n    return x * 2  # comment", "int main() { return 0; }", "for (int i = 0; i < n; ++i) {}",
    "if a != b and c <= d: pass", "<div class=\"x\">hi</div>", "SELECT * FROM t WHERE id = 1;",
    "`code` ~tilde~ ^caret^ |pipe| \\back\\", "!!!!!!", "??!!..,,", "------=======", "......",
    "'''''''```````\"\"\"\"", "a-b_c.d/e:f;g", "(parens) [brackets] {braces} <angles>", "«guillemets» „quotes“",
    "– — ‘single’ “double” …", "¡Hola! ¿Qué tal?", "Ünïcödé", "ǅ ǈ ǋ titlecase", "ﬀ ﬃ ligatures",
    "[CLS]", "[SEP]", "[MASK]", "[UNK]", "[PAD]", "x [SEP] y", "[CLS][SEP]", "a[MASK]b", "[cls] lower",
    "[ SEP ]", "[[SEP]]", "##", "##ing", "un##affable",
    "unaffable", "supercalifragilisticexpialidocious", "antidisestablishmentarianism",
    "a" * 100, "a" * 101, "b" * 99 + " ok", "é" * 101, "word " * 30,
    "pneumonoultramicroscopicsilicovolcanoconiosis " * 3,
    "    Hello\n    Hello", "\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n",
    "The quick brown fox jumps over the lazy dog.", "THE QUICK BROWN FOX", "MiXeD CaSe WoRdS",
]

ALPHABETS = {
    "ascii": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "digits": "0123456789",
    "punct": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    "space": " \t\n\r\u00a0\u3000\u2003\u000b\u000c\u0085",
    "cjk": "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长",
    "kana": "あいうえおかきくけこさしすせそアイウエオカキクケコーッ",
    "hangul": "가나다라마바사아자차카타파하한국어",
    "cyrillic": "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗ",
    "greek": "αβγδεζηθικλμνξοπρστυφχψωΑΒΓΔΣΩάέήίόύώ",
    "latin_accents": "àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿÀÁÂÃÄÅÇÈÉÊËÑÖÜßœŒłŁđĐşŞğĞıİ",
    "combining": "\u0300\u0301\u0302\u0303\u0308\u030a\u0327\u0328\u0332\u0336\u20d7\u0483\u05b4\u0651\u093c\u0e31",
    "arabic": "ابتثجحخدذرزسشصضطظعغفقكلمنهوي٠١٢٣٤٥٦٧٨٩،؟",
    "hebrew": "אבגדהוזחטיכלמנסעפצקרשת",
    "devanagari": "अआइईउऊएऐओऔकखगघचछजझटठडढणतथदधनपफबभमयरलवशषसह्ािीुूेैोौं",
    "thai": "กขคงจฉชซญดตถทธนบปผพฟภมยรลวศษสหอฮะาิีึืุูเแโใไ่้๊๋",
    "emoji": "😀😁😂🤣😃😄😅😆😉😊🙂🙃😍🥰😘🚀🦙✅❤️👍🏽👨‍👩‍👧🇺🇸🔥✨🎉",
    "symbols": "€£¥©®™°±×÷∑∏√∞≈≠≤≥←→↑↓♠♣♥♦★☆½¼¾²³¹",
    "fullwidth": "ＡＢＣａｂｃ１２３！？（）",
}

CODE_SNIPPETS = [
    "x = [i ** 2 for i in range(10)]", "std::vector<int> v{1, 2, 3};", "console.log(`${a} + ${b}`);",
    "fn main() { println!(\"hi\"); }", "SELECT name, COUNT(*) FROM users GROUP BY name;", "a && b || !c",
    "#include <stdio.h>", "let x: Option<&str> = None;", "$ ls -la | grep '.py'", "{\"key\": [1, 2.5, null]}",
]


def random_word(rng, alphabet, lo=1, hi=12):
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def random_text(rng):
    kind = rng.random()
    if kind < 0.15:
        return rng.choice(CODE_SNIPPETS) + rng.choice(["", " ", "\n", " // " + random_word(rng, ALPHABETS["ascii"])])
    if kind < 0.25:
        # Random code points from the BMP and the supplementary ideographic plane.
        cps = []
        for _ in range(rng.randint(1, 12)):
            cp = rng.choice([rng.randint(0x20, 0x2FFF), rng.randint(0x3000, 0xFFFD), rng.randint(0x10000, 0x2FFFF)])
            if 0xD800 <= cp <= 0xDFFF:
                cp = 0x41
            cps.append(chr(cp))
        return "".join(cps)
    names = list(ALPHABETS)
    parts = []
    for _ in range(rng.randint(1, 8)):
        alpha = ALPHABETS[rng.choice(names)]
        parts.append(random_word(rng, alpha))
        sep = rng.choice([" ", " ", " ", "", "  ", "\t", "\n", ", ", ". ", "-", "\u3000", " \n "])
        parts.append(sep)
    return "".join(parts)


def main():
    tok = Tokenizer.from_file(MODEL)
    trunc = tok.truncation
    tok.no_padding()
    tok.no_truncation()
    rng = random.Random(20251123)
    texts = list(HAND_PICKED)
    while len(texts) < 560:
        texts.append(random_text(rng))
    with open(OUT, "w", encoding="ascii") as f:
        for t in texts:
            ids = tok.encode(t, add_special_tokens=True).ids
            dec = tok.decode(ids)
            f.write("%s\t%s\t%s\n" % (t.encode().hex(), " ".join(map(str, ids)), dec.encode().hex()))

    # Long texts with the file's own truncation (128 ids, [CLS]/[SEP] kept).
    tok.enable_truncation(max_length=trunc["max_length"], strategy=trunc["strategy"], stride=trunc["stride"])
    long_texts = [" ".join(random_text(rng) for _ in range(30)) for _ in range(5)]
    long_texts.append("word " * 200)
    long_texts.append("short text")
    with open(OUT_TRUNC, "w", encoding="ascii") as f:
        for t in long_texts:
            ids = tok.encode(t, add_special_tokens=True).ids
            f.write("%s\t%s\t%s\n" % (t.encode().hex(), " ".join(map(str, ids)), tok.decode(ids).encode().hex()))
    print("wrote %d + %d cases (%d / %d bytes)" % (len(texts), len(long_texts), os.path.getsize(OUT),
                                                  os.path.getsize(OUT_TRUNC)), file=sys.stderr)


if __name__ == "__main__":
    main()
