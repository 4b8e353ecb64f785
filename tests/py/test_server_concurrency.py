"""autoglm serve under concurrent load: batching does not change greedy output, 64 streams all finish
well-formed, and a client that disconnects has its request cancelled and its KV blocks freed."""
import http.client
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import metric, sse_events

PROMPTS = ["Once upon a time", "The little dog", "Lily and Ben went to the park", "One day, a big bird",
           "Tom had a red ball", "The sun was hot", "Mia liked to draw", "There was a tiny fish"]


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory("--ctx-size", 1024, "--parallel", 16, "--http-threads", 256)


def complete(srv, prompt, **kw):
    body = {"prompt": prompt, "max_tokens": 48, "temperature": 0, **kw}
    r = requests.post(srv.url + "/v1/completions", json=body, timeout=120)
    assert r.status_code == 200, r.text
    return r.json()["choices"][0]["text"]


def test_greedy_output_same_alone_and_among_16_concurrent(srv):
    alone = complete(srv, PROMPTS[0])
    with ThreadPoolExecutor(16) as ex:
        futs = [ex.submit(complete, srv, PROMPTS[i % len(PROMPTS)], temperature=(0 if i % 2 == 0 else 0.9), seed=i)
                for i in range(16)]
        results = [f.result() for f in futs]
    assert results[0] == alone
    assert all(results[i] == alone for i in range(0, 16, len(PROMPTS)))
    # Seeded sampling is batch-independent too.
    assert results[1] == complete(srv, PROMPTS[1], temperature=0.9, seed=1)


def read_stream(srv, i):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=120)
    body = {"messages": [{"role": "user", "content": PROMPTS[i % len(PROMPTS)]}], "max_tokens": 32 + i % 8,
            "stream": True, "seed": i, "stream_options": {"include_usage": True}}
    conn.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 200
    raw = resp.read().decode()
    conn.close()
    return raw


def test_64_concurrent_streams_complete_and_well_formed(srv):
    with ThreadPoolExecutor(64) as ex:
        raws = list(ex.map(lambda i: read_stream(srv, i), range(64)))
    for i, raw in enumerate(raws):
        assert raw.endswith("data: [DONE]\n\n"), raw[-200:]
        blocks = [b for b in raw.split("\n\n") if b]
        assert all(b.startswith("data: ") or b.startswith(": ") for b in blocks), blocks  # data or SSE comment
        events = sse_events(b for b in blocks)
        assert events[-1] == "[DONE]"
        chunks, usage = events[:-2], events[-2]
        assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
        finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"][0]["finish_reason"]]
        assert finishes == [chunks[-1]["choices"][0]["finish_reason"]] and finishes[0] in ("stop", "length")
        assert len({c["id"] for c in chunks}) == 1
        assert usage["choices"] == [] and 0 < usage["usage"]["completion_tokens"] <= 32 + i % 8


def metrics(srv):
    return requests.get(srv.url + "/metrics", timeout=10).text


def test_disconnected_client_is_cancelled_and_its_blocks_freed(srv):
    before = metrics(srv)
    used_before = metric(before, "autoglm_kv_blocks_used")
    cancelled_before = metric(before, "autoglm_requests_cancelled_total")
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    body = {"prompt": "Once upon a time", "max_tokens": 1000, "ignore_eos": True, "stream": True, "temperature": 0}
    conn.request("POST", "/v1/completions", json.dumps(body), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 200
    resp.readline()  # the first chunk has arrived: the request is running
    running = metrics(srv)
    assert metric(running, "autoglm_requests_running") >= 1
    assert metric(running, "autoglm_kv_blocks_used") > used_before
    conn.sock.close()  # the client goes away mid-stream
    conn.close()
    deadline = time.time() + 10
    while time.time() < deadline:
        m = metrics(srv)
        if (metric(m, "autoglm_requests_running") == 0 and
                metric(m, "autoglm_requests_cancelled_total") > cancelled_before):
            break
        time.sleep(0.05)
    assert metric(m, "autoglm_requests_running") == 0
    assert metric(m, "autoglm_requests_cancelled_total") == cancelled_before + 1
    assert metric(m, "autoglm_kv_blocks_used") == used_before
    assert metric(m, "autoglm_generated_tokens_total") - metric(before, "autoglm_generated_tokens_total") < 1000
    assert requests.get(srv.url + "/health", timeout=10).status_code == 200
