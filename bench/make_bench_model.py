#!/usr/bin/env python3
"""Write a random-weight Llama GGUF for server benchmarks: stories260K's tokenizer and metadata with
bigger dimensions, so a decode step reads enough weights for batching to matter (DESIGN.md §6:
speed depends on shapes, not weight values). Needs numpy and gguf (the test venv).

  python bench/make_bench_model.py /tmp/bench-llama-25m.gguf --embd 512 --layers 8 --ffn 1376 --heads 8
"""
import argparse
import pathlib

import numpy as np
from gguf import GGUFReader, GGUFWriter, GGUFValueType

STORIES = pathlib.Path(__file__).resolve().parents[2] / "shared" / "models" / "stories260K" / "stories260K.gguf"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--source", default=str(STORIES))
    ap.add_argument("--embd", type=int, default=512)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--ffn", type=int, default=1376)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--ctx", type=int, default=2048)
    args = ap.parse_args()

    src = GGUFReader(args.source)
    w = GGUFWriter(args.out, "llama")
    dims = {"llama.embedding_length": args.embd, "llama.block_count": args.layers, "llama.feed_forward_length": args.ffn,
            "llama.attention.head_count": args.heads, "llama.attention.head_count_kv": args.heads,
            "llama.context_length": args.ctx, "llama.rope.dimension_count": args.embd // args.heads}
    for name, f in src.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture":
            continue
        vtype = f.types[0]
        if name in dims:
            w.add_uint32(name, dims.pop(name))
        elif vtype == GGUFValueType.ARRAY:
            sub = f.types[-1]
            vals = [f.parts[i] for i in f.data]
            if sub == GGUFValueType.STRING:
                w.add_array(name, [bytes(v).decode("utf-8", errors="surrogateescape") for v in vals])
            else:
                w.add_array(name, [v.tolist()[0] for v in vals])
        elif vtype == GGUFValueType.STRING:
            w.add_string(name, bytes(f.parts[f.data[0]]).decode())
        else:
            w.add_key_value(name, f.parts[f.data[0]].tolist()[0], vtype)
    for name, v in dims.items():
        w.add_uint32(name, v)
    n_vocab = len(src.fields["tokenizer.ggml.tokens"].data)
    rng = np.random.default_rng(0)
    e, ff = args.embd, args.ffn

    def t(name, *shape):
        w.add_tensor(name, (rng.standard_normal(shape) * 0.02).astype(np.float32))

    t("token_embd.weight", n_vocab, e)
    w.add_tensor("output_norm.weight", np.ones(e, np.float32))
    t("output.weight", n_vocab, e)
    for i in range(args.layers):
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(e, np.float32))
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(e, np.float32))
        for n in ("attn_q", "attn_k", "attn_v", "attn_output"):
            t(f"blk.{i}.{n}.weight", e, e)
        t(f"blk.{i}.ffn_gate.weight", ff, e)
        t(f"blk.{i}.ffn_up.weight", ff, e)
        t(f"blk.{i}.ffn_down.weight", e, ff)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main()
