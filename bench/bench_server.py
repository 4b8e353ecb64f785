#!/usr/bin/env python3
"""Benchmark a running `autoglm serve` (or any OpenAI-compatible server) with concurrent streams.

For each concurrency level C, C clients each send --rounds streaming /v1/completions requests
(fixed length: ignore_eos) back to back. Reports aggregate generated tokens/s over the level's wall
time, time to first token (TTFT) and per-token latency (time between a stream's tokens) p50/p99.

  autoglm serve --model stories260K.gguf --port 8080 --parallel 64 &
  python bench/bench_server.py --url http://127.0.0.1:8080 --concurrency 1,4,16,64

Only the Python standard library is needed.
"""
import argparse
import http.client
import json
import statistics
import threading
import time
import urllib.parse


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * (len(s) - 1)))))]


def one_stream(url, body, headers):
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=600)
    t0 = time.perf_counter()
    conn.request("POST", "/v1/completions", json.dumps(body), headers)
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError(f"HTTP {resp.status}: {resp.read()[:200]!r}")
    stamps, usage = [], None
    for line in resp:
        line = line.strip()
        if not line.startswith(b"data: "):
            continue
        data = line[6:]
        if data == b"[DONE]":
            break
        ev = json.loads(data)
        if ev.get("usage"):
            usage = ev["usage"]
        for c in ev.get("choices", []):
            if c.get("text"):
                stamps.append(time.perf_counter())
    conn.close()
    n = usage["completion_tokens"] if usage else len(stamps)
    ttft = stamps[0] - t0 if stamps else float("nan")
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    return n, ttft, gaps


def run_level(url, conc, rounds, body, headers):
    results, errors, lock = [], [], threading.Lock()

    def client():
        for _ in range(rounds):
            try:
                r = one_stream(url, body, headers)
                with lock:
                    results.append(r)
            except Exception as e:  # noqa: BLE001 - reported, not fatal
                with lock:
                    errors.append(str(e))

    threads = [threading.Thread(target=client) for _ in range(conc)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    tokens = sum(r[0] for r in results)
    ttfts = [r[1] for r in results]
    gaps = [g for r in results for g in r[2]]
    return {"concurrency": conc, "requests": len(results), "errors": len(errors), "tokens": tokens,
            "wall_s": wall, "tok_s": tokens / wall if wall > 0 else 0.0,
            "ttft_p50_ms": 1e3 * pct(ttfts, 50), "ttft_p99_ms": 1e3 * pct(ttfts, 99),
            "tpot_p50_ms": 1e3 * pct(gaps, 50), "tpot_p99_ms": 1e3 * pct(gaps, 99),
            "first_error": errors[0] if errors else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--concurrency", default="1,4,16,64")
    ap.add_argument("--rounds", type=int, default=2, help="requests per client per level")
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--prompt", default="Once upon a time, there was a little girl named Lily.")
    ap.add_argument("--api-key", default="")
    ap.add_argument("--warmup", type=int, default=1, help="unmeasured requests before the first level")
    ap.add_argument("--json", action="store_true", help="print one JSON object per level instead of a table")
    args = ap.parse_args()

    headers = {"Content-Type": "application/json"}
    if args.api_key:
        headers["Authorization"] = f"Bearer {args.api_key}"
    body = {"prompt": args.prompt, "max_tokens": args.max_tokens, "ignore_eos": True, "temperature": 0.8,
            "stream": True, "stream_options": {"include_usage": True}}
    for _ in range(args.warmup):
        one_stream(args.url, body, headers)

    levels = [int(c) for c in args.concurrency.split(",")]
    rows = []
    if not args.json:
        print("| streams | requests | tokens | aggregate tok/s | x one stream | TTFT p50 / p99 ms "
              "| per-token p50 / p99 ms | errors |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in levels:
        r = run_level(args.url, c, args.rounds, body, headers)
        rows.append(r)
        base = rows[0]["tok_s"] or 1.0
        if args.json:
            print(json.dumps(r), flush=True)
        else:
            print(f"| {c} | {r['requests']} | {r['tokens']} | {r['tok_s']:.0f} | {r['tok_s'] / base:.1f} "
                  f"| {r['ttft_p50_ms']:.1f} / {r['ttft_p99_ms']:.1f} | {r['tpot_p50_ms']:.2f} / "
                  f"{r['tpot_p99_ms']:.2f} | {r['errors']} |", flush=True)
    if any(r["errors"] for r in rows):
        print("errors, e.g.:", next(r["first_error"] for r in rows if r["errors"]))
        raise SystemExit(1)


if __name__ == "__main__":
    main()
