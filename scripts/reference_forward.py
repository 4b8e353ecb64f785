#!/usr/bin/env python3
"""Independent NumPy reference for Llama-architecture GGUF models (written for stories260K).

Readable on purpose: one function per step of the forward pass, no batching tricks, so a reader can
check it against the Llama paper / llama2.c's description in a few minutes. It is the reference the
C++ engine's greedy outputs are compared with (tests/py/test_golden_reference.py) and the generator
of tests/data/golden_*.json (scripts/gen_golden.py).

Semantics (arch "llama"):
  x = token_embd[id]
  per layer:  h = x + Wo · attention(rope(Wq · rms(x)), rope(Wk · rms(x)), Wv · rms(x))   (causal, GQA)
              x = h + W2 · (silu(W1 · rms(h)) * (W3 · rms(h)))
  logits = output (or tied token_embd) · rms(x)
RoPE rotates ADJACENT pairs (x[2i], x[2i+1]) by pos * base^(-2i / n_rot). That is the convention
llama.cpp uses for arch "llama" on GGUF files (its converter permutes HF's Q/K rows into it) and the
one llama2.c uses; tests/py/test_golden_reference.py checks that the other ("neox", halves) does not
reproduce llama2.c.

The tokenizer is SentencePiece BPE by score, as llama2.c's encode() does it: a "▁" dummy prefix,
spaces as "▁", one symbol per code point (UTF-8 byte tokens <0xNN> when the code point is not in
the vocabulary), then repeatedly merge the adjacent pair whose concatenation is a token with the
highest score (the leftmost pair on ties).

Usage: reference_forward.py --model M.gguf [--prompt P] [--n-predict N] [--temp T --top-p P --seed S]
(prints the generated text only; greedy unless --temp > 0)
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

import numpy as np
from gguf import GGUFReader, GGMLQuantizationType
from gguf.quants import dequantize

TOKEN_TYPE_UNKNOWN, TOKEN_TYPE_CONTROL, TOKEN_TYPE_BYTE = 2, 3, 6


def _field(reader: GGUFReader, key: str, default=None):
    f = reader.fields.get(key)
    if f is None:
        return default
    return f.contents()


@dataclass
class HParams:
    n_vocab: int
    n_embd: int
    n_layer: int
    n_head: int
    n_head_kv: int
    n_ff: int
    n_rot: int
    rms_eps: float
    rope_base: float

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head


class Vocab:
    """tokenizer.ggml.* of an SPM ("llama") vocabulary: encode (BPE by score) and decode."""

    def __init__(self, reader: GGUFReader):
        self.tokens: list[str] = list(_field(reader, "tokenizer.ggml.tokens"))
        self.scores: list[float] = list(_field(reader, "tokenizer.ggml.scores"))
        self.types: list[int] = list(_field(reader, "tokenizer.ggml.token_type"))
        self.bos = int(_field(reader, "tokenizer.ggml.bos_token_id", 1))
        self.eos = int(_field(reader, "tokenizer.ggml.eos_token_id", 2))
        self.index = {t: i for i, t in enumerate(self.tokens)}

    def encode(self, text: str, bos: bool = True) -> list[int]:
        ids = [self.bos] if bos else []
        if not text:
            return ids
        symbols: list[int] = []
        for ch in "\u2581" + text.replace(" ", "\u2581"):
            if ch in self.index:
                symbols.append(self.index[ch])
            else:  # byte fallback
                symbols.extend(self.index[f"<0x{b:02X}>"] for b in ch.encode("utf-8"))
        while True:
            best, best_score = -1, -np.inf
            for i in range(len(symbols) - 1):
                merged = self.index.get(self.tokens[symbols[i]] + self.tokens[symbols[i + 1]])
                if merged is not None and self.scores[merged] > best_score:
                    best, best_score = i, self.scores[merged]
            if best < 0:
                break
            symbols[best:best + 2] = [self.index[self.tokens[symbols[best]] + self.tokens[symbols[best + 1]]]]
        return ids + symbols

    def piece(self, token: int) -> bytes:
        t, kind = self.tokens[token], self.types[token]
        if kind == TOKEN_TYPE_BYTE:
            return bytes([int(t[3:5], 16)])
        if kind in (TOKEN_TYPE_CONTROL, TOKEN_TYPE_UNKNOWN):
            return b""
        return t.replace("\u2581", " ").encode("utf-8")

    def decode_bytes(self, ids: list[int], prev: int | None = None) -> bytes:
        """Bytes of ids following token prev; a piece right after BOS loses its leading space."""
        out = bytearray()
        for t in ids:
            p = self.piece(t)
            if prev == self.bos and p.startswith(b" "):
                p = p[1:]
            out += p
            prev = t
        return bytes(out)

    def decode(self, ids: list[int], prev: int | None = None) -> str:
        return self.decode_bytes(ids, prev).decode("utf-8", errors="replace")


class Model:
    def __init__(self, path: str, dtype=np.float32, rope_style: str = "adjacent"):
        assert rope_style in ("adjacent", "neox")
        reader = GGUFReader(path)
        arch = _field(reader, "general.architecture")
        if arch != "llama":
            raise ValueError(f"reference supports arch 'llama' only, got {arch!r}")
        self.dtype, self.rope_style = dtype, rope_style
        self.weights = {t.name: self._tensor(t) for t in reader.tensors}
        self.vocab = Vocab(reader)
        n_embd = int(_field(reader, "llama.embedding_length"))
        n_head = int(_field(reader, "llama.attention.head_count"))
        self.hp = HParams(
            n_vocab=self.weights["token_embd.weight"].shape[0],
            n_embd=n_embd,
            n_layer=int(_field(reader, "llama.block_count")),
            n_head=n_head,
            n_head_kv=int(_field(reader, "llama.attention.head_count_kv", n_head)),
            n_ff=int(_field(reader, "llama.feed_forward_length")),
            n_rot=int(_field(reader, "llama.rope.dimension_count", n_embd // n_head)),
            rms_eps=float(_field(reader, "llama.attention.layer_norm_rms_epsilon", 1e-5)),
            rope_base=float(_field(reader, "llama.rope.freq_base", 10000.0)),
        )

    def _tensor(self, t) -> np.ndarray:
        # GGUF lists dims fastest-first; numpy wants them slowest-first: a [in, out] GGUF matrix is (out, in).
        shape = tuple(int(d) for d in reversed(t.shape))
        if t.tensor_type in (GGMLQuantizationType.F32, GGMLQuantizationType.F16):
            data = np.asarray(t.data)
        else:
            data = dequantize(t.data, t.tensor_type)
        return np.asarray(data, dtype=self.dtype).reshape(shape)

    def w(self, name: str) -> np.ndarray:
        return self.weights[name]

    # --- the blocks -----------------------------------------------------------------------------

    def rms_norm(self, x: np.ndarray, weight: np.ndarray) -> np.ndarray:
        ms = np.mean(x * x, axis=-1, keepdims=True)
        return x / np.sqrt(ms + self.dtype(self.hp.rms_eps)) * weight

    def rope(self, x: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """x: (T, heads, head_dim). Rotates the first n_rot dims of each head."""
        n_rot = self.hp.n_rot
        inv_freq = self.hp.rope_base ** (-np.arange(0, n_rot, 2, dtype=np.float64) / n_rot)
        angle = positions.astype(np.float64)[:, None] * inv_freq[None, :]  # (T, n_rot/2)
        cos = np.cos(angle).astype(self.dtype)[:, None, :]
        sin = np.sin(angle).astype(self.dtype)[:, None, :]
        out = x.copy()
        if self.rope_style == "adjacent":
            a, b = x[..., 0:n_rot:2], x[..., 1:n_rot:2]
            out[..., 0:n_rot:2] = a * cos - b * sin
            out[..., 1:n_rot:2] = a * sin + b * cos
        else:
            half = n_rot // 2
            a, b = x[..., :half], x[..., half:n_rot]
            out[..., :half] = a * cos - b * sin
            out[..., half:n_rot] = a * sin + b * cos
        return out

    def attention(self, layer: int, x: np.ndarray, positions: np.ndarray, cache: dict) -> np.ndarray:
        hp, p = self.hp, f"blk.{layer}."
        T, hd = x.shape[0], hp.head_dim
        q = (x @ self.w(p + "attn_q.weight").T).reshape(T, hp.n_head, hd)
        k = (x @ self.w(p + "attn_k.weight").T).reshape(T, hp.n_head_kv, hd)
        v = (x @ self.w(p + "attn_v.weight").T).reshape(T, hp.n_head_kv, hd)
        q, k = self.rope(q, positions), self.rope(k, positions)
        keys = np.concatenate([cache["k"][layer], k]) if layer in cache["k"] else k
        vals = np.concatenate([cache["v"][layer], v]) if layer in cache["v"] else v
        cache["k"][layer], cache["v"][layer] = keys, vals
        key_pos = np.arange(keys.shape[0])
        group = hp.n_head // hp.n_head_kv  # grouped-query attention: query head h reads kv head h // group
        out = np.empty_like(q)
        for h in range(hp.n_head):
            scores = (q[:, h, :] @ keys[:, h // group, :].T) / self.dtype(np.sqrt(hd))  # (T, S)
            scores = np.where(key_pos[None, :] <= positions[:, None], scores, -np.inf)  # causal
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            out[:, h, :] = (scores / scores.sum(axis=-1, keepdims=True)) @ vals[:, h // group, :]
        return out.reshape(T, hp.n_embd) @ self.w(p + "attn_output.weight").T

    def mlp(self, layer: int, x: np.ndarray) -> np.ndarray:
        p = f"blk.{layer}."
        gate = x @ self.w(p + "ffn_gate.weight").T
        up = x @ self.w(p + "ffn_up.weight").T
        return (gate / (1 + np.exp(-gate)) * up) @ self.w(p + "ffn_down.weight").T  # silu(gate) * up

    # --- the model ------------------------------------------------------------------------------

    def new_cache(self) -> dict:
        return {"k": {}, "v": {}, "n": 0}

    def forward(self, tokens: list[int], cache: dict) -> np.ndarray:
        """Runs tokens at positions cache['n']...; returns their logits, shape (len(tokens), n_vocab)."""
        positions = np.arange(cache["n"], cache["n"] + len(tokens))
        x = self.w("token_embd.weight")[np.asarray(tokens)]
        for layer in range(self.hp.n_layer):
            p = f"blk.{layer}."
            x = x + self.attention(layer, self.rms_norm(x, self.w(p + "attn_norm.weight")), positions, cache)
            x = x + self.mlp(layer, self.rms_norm(x, self.w(p + "ffn_norm.weight")))
        cache["n"] += len(tokens)
        head = self.weights.get("output.weight", self.w("token_embd.weight"))  # tied when absent
        return self.rms_norm(x, self.w("output_norm.weight")) @ head.T

    def generate(self, prompt_ids: list[int], n_predict: int, sampler: "Llama2cSampler | None" = None,
                 stop: tuple[int, ...] = ()) -> tuple[list[int], np.ndarray]:
        """Continues prompt_ids by n_predict tokens, greedy (argmax, first index wins ties) when sampler
        is None. Returns (generated ids, logits after the prompt). Stops after emitting a token in
        stop; that token is included in the ids."""
        cache = self.new_cache()
        logits = self.forward(prompt_ids, cache)[-1]
        first_logits, out = logits, []
        for _ in range(n_predict):
            nxt = int(np.argmax(logits)) if sampler is None else sampler.sample(logits)
            out.append(nxt)
            if nxt in stop:
                break
            logits = self.forward([nxt], cache)[-1]
        return out, first_logits


class Llama2cSampler:
    """llama2.c run.c's sampler, in float32 like the C code: xorshift64* draws, logits / temperature,
    softmax, one coin per token; top_p off (<= 0 or >= 1): walk the probabilities in index order;
    top_p on: drop probs < (1 - top_p) / (n - 1), sort descending, keep until the cumulative sum
    exceeds top_p, walk the kept tokens with coin * kept mass. Exact ties sort by lower id."""

    def __init__(self, temperature: float, top_p: float, seed: int):
        self.temperature, self.top_p, self.state = np.float32(temperature), np.float32(top_p), seed

    def next_u32(self) -> int:
        m = (1 << 64) - 1
        s = self.state
        s ^= s >> 12
        s ^= (s << 25) & m
        s ^= s >> 27
        self.state = s
        return ((s * 0x2545F4914F6CDD1D) & m) >> 32

    def next_float(self) -> np.float32:
        return np.float32(self.next_u32() >> 8) / np.float32(16777216.0)

    def sample(self, logits: np.ndarray) -> int:
        if self.temperature == 0:
            return int(np.argmax(logits))
        x = logits.astype(np.float32) / self.temperature
        x = np.exp(x - x.max())
        probs = x / np.cumsum(x)[-1]  # cumsum adds sequentially, as the C loop does
        coin = self.next_float()
        if self.top_p <= 0 or self.top_p >= 1:
            return self._walk(np.arange(len(probs)), probs, coin)
        cutoff = (np.float32(1) - self.top_p) / np.float32(len(probs) - 1)
        kept = np.nonzero(probs >= cutoff)[0]
        kept = kept[np.argsort(-probs[kept], kind="stable")]
        cumulative = np.cumsum(probs[kept])
        crossed = np.nonzero(cumulative > self.top_p)[0]
        last = int(crossed[0]) if len(crossed) else len(kept) - 1
        return self._walk(kept[:last + 1], probs[kept[:last + 1]], coin * cumulative[last])

    @staticmethod
    def _walk(ids: np.ndarray, probs: np.ndarray, r) -> int:
        above = np.nonzero(r < np.cumsum(probs))[0]
        return int(ids[above[0]] if len(above) else ids[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--prompt", default="")
    ap.add_argument("--n-predict", type=int, default=64)
    ap.add_argument("--float64", action="store_true", help="compute in float64 instead of float32")
    ap.add_argument("--rope", choices=["adjacent", "neox"], default="adjacent")
    ap.add_argument("--temp", type=float, default=0.0, help="0: greedy; else llama2.c's sampler")
    ap.add_argument("--top-p", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    model = Model(args.model, np.float64 if args.float64 else np.float32, args.rope)
    prompt = model.vocab.encode(args.prompt)
    sampler = Llama2cSampler(args.temp, args.top_p, args.seed) if args.temp > 0 else None
    ids, _ = model.generate(prompt, args.n_predict, sampler, stop=(model.vocab.eos,))
    sys.stdout.buffer.write(model.vocab.decode_bytes(ids, prev=prompt[-1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
