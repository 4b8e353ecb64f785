"""autoglm serve with a model big enough to take real time (a random-weight file shaped like
SmolLM2-135M, ~150 MB of q8_0): /health answers 503 "loading" from the moment the port opens until
the weights are loaded, then 200; and a non-streaming client that hangs up mid-generation is
cancelled, its KV blocks freed at once, with the server healthy afterwards."""
import json
import os
import re
import signal
import socket
import subprocess
import time

import pytest
import requests

from conftest import BIN, metric
from served import Served


@pytest.fixture(scope="module")
def big_model(tmp_path_factory):
    if not BIN or not os.path.exists(BIN):
        pytest.skip("AUTOGLM_BIN not built")
    path = tmp_path_factory.mktemp("big") / "smollm2-135m-random-q8_0.gguf"
    r = subprocess.run([BIN, "gen-random", "--arch", "llama", "--shape", "smollm2-135m", "--type", "q8_0",
                        "--output", str(path)], capture_output=True, timeout=600)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    assert path.stat().st_size > 100 << 20
    return path


def test_health_is_503_loading_until_the_model_is_loaded(big_model, tmp_path):
    s = Served(big_model, tmp_path / "server.log")
    try:
        # Poll from before the port opens: the first answer must already be "loading".
        seen = []  # (status, body) of every /health answer, in order
        others_checked = False
        deadline = time.time() + 300
        while time.time() < deadline:
            assert s.proc.poll() is None, f"server exited with {s.proc.returncode}:\n{s.log()}"
            try:
                r = requests.get(s.url + "/health", timeout=10)
            except requests.ConnectionError:
                time.sleep(0.002)
                continue
            seen.append((r.status_code, r.json()))
            if r.status_code == 200:
                break
            if not others_checked:
                # Everything that needs the model says so while it loads; /metrics and the page work.
                for method, path, body in [("GET", "/v1/models", None), ("POST", "/tokenize", {"content": "hi"}),
                                           ("POST", "/v1/completions", {"prompt": "hi", "max_tokens": 2}),
                                           ("POST", "/v1/chat/completions",
                                            {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2})]:
                    rr = requests.request(method, s.url + path, json=body, timeout=10)
                    assert rr.status_code == 503, (path, rr.status_code, rr.text)
                    assert rr.json()["error"]["code"] == "loading", (path, rr.text)
                m = requests.get(s.url + "/metrics", timeout=10)
                assert m.status_code == 200 and metric(m.text, "autoglm_ready") == 0, m.text
                assert requests.get(s.url + "/", timeout=10).status_code == 200
                others_checked = True
            time.sleep(0.01)
        assert seen, "the port never opened:\n" + s.log()
        assert seen[0] == (503, {"status": "loading"}), seen[:3]
        assert others_checked
        assert seen[-1] == (200, {"status": "ok"}), (seen[-3:], s.log())
        # Loading, then ready: never back.
        statuses = [st for st, _ in seen]
        first_ok = statuses.index(200)
        assert all(st == 503 for st in statuses[:first_ok]) and all(b == {"status": "loading"} for _, b in seen[:first_ok])
        # Ready means serving: the endpoints that said "loading" now work.
        assert requests.get(s.url + "/v1/models", timeout=10).status_code == 200
        r = requests.post(s.url + "/v1/completions", json={"prompt": "hi", "max_tokens": 2, "temperature": 0},
                          timeout=120)
        assert r.status_code == 200, r.text
    finally:
        assert s.stop() == 0, s.log()


def test_sigterm_while_loading_stops_at_once(big_model, tmp_path):
    # SIGTERM as soon as /health says "loading": the server must not finish loading first.
    s = Served(big_model, tmp_path / "server.log")
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            assert s.proc.poll() is None, s.log()
            try:
                r = requests.get(s.url + "/health", timeout=10)
            except requests.ConnectionError:
                time.sleep(0.002)
                continue
            assert (r.status_code, r.json()) == (503, {"status": "loading"}), r.text
            break
        t0 = time.time()
        s.proc.send_signal(signal.SIGTERM)
        assert s.proc.wait(30) == 0, s.log()
        took = time.time() - t0
    finally:
        s.stop()
    log = s.log()
    assert "while loading the model, stopping" in log, log
    assert "ready on" not in log, log
    assert took < 5, (took, log)
    with pytest.raises(requests.ConnectionError):
        requests.get(s.url + "/health", timeout=5)


def metrics(url):
    return requests.get(url + "/metrics", timeout=10).text


def status_count(text, code):
    """Sum of autoglm_http_requests_total over endpoints for one status code."""
    return sum(float(v) for v in re.findall(rf'^autoglm_http_requests_total{{[^}}]*status="{code}"}} (\S+)$', text,
                                            re.M))


@pytest.fixture(scope="module")
def big_srv(big_model, tmp_path_factory):
    s = Served(big_model, tmp_path_factory.mktemp("big_srv") / "server.log", "--ctx-size", 2048, "--parallel", 4)
    s.wait_ready()
    yield s
    assert s.stop() == 0, s.log()


def raw_post(port, path, body):
    """Sends a request on a raw socket and returns the socket without reading the answer."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    data = json.dumps(body).encode()
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
    return sock


def wait_for(url, cond, timeout):
    deadline = time.time() + timeout
    while True:
        m = metrics(url)
        if cond(m) or time.time() > deadline:
            return m
        time.sleep(0.01)


@pytest.mark.parametrize("path,body", [
    ("/v1/completions", {"prompt": "Once upon a time", "max_tokens": 1500, "ignore_eos": True, "n": 2}),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "Tell me a long story."}], "max_tokens": 1500,
                              "ignore_eos": True}),
])
def test_non_streaming_client_that_hangs_up_is_cancelled_and_its_blocks_freed(big_srv, path, body):
    before = metrics(big_srv.url)
    used_before = metric(before, "autoglm_kv_blocks_used")
    cancelled_before = metric(before, "autoglm_requests_cancelled_total")
    generated_before = metric(before, "autoglm_generated_tokens_total")
    closed_before = status_count(before, 499)
    n = body.get("n", 1)

    sock = raw_post(big_srv.port, path, body)
    # Running and generating: the request holds KV blocks.
    running = wait_for(big_srv.url, lambda m: metric(m, "autoglm_requests_running") >= n and
                       metric(m, "autoglm_generated_tokens_total") > generated_before, 60)
    assert metric(running, "autoglm_requests_running") >= n, running
    assert metric(running, "autoglm_kv_blocks_used") > used_before
    sock.close()  # the client goes away before its response is ready
    hung_up = time.time()

    freed = wait_for(big_srv.url, lambda m: metric(m, "autoglm_requests_running") == 0 and
                     metric(m, "autoglm_requests_cancelled_total") >= cancelled_before + n and
                     metric(m, "autoglm_kv_blocks_used") == used_before, 30)
    took = time.time() - hung_up
    assert metric(freed, "autoglm_requests_running") == 0, freed
    assert metric(freed, "autoglm_requests_cancelled_total") == cancelled_before + n
    assert metric(freed, "autoglm_kv_blocks_used") == used_before
    # Noticed promptly (a few engine steps at most on a busy machine), not after max_tokens.
    assert took < 5, took
    generated = metric(freed, "autoglm_generated_tokens_total") - generated_before
    assert generated < n * body["max_tokens"] / 2, generated
    # The exchange is logged as "client closed request".
    assert wait_for(big_srv.url, lambda m: status_count(m, 499) == closed_before + 1, 10) and \
        status_count(metrics(big_srv.url), 499) == closed_before + 1
    # Still healthy and serving.
    assert requests.get(big_srv.url + "/health", timeout=10).status_code == 200
    r = requests.post(big_srv.url + "/v1/completions", json={"prompt": "hi", "max_tokens": 3, "temperature": 0},
                      timeout=120)
    assert r.status_code == 200 and r.json()["usage"]["completion_tokens"] >= 1, r.text


def test_non_streaming_client_that_stays_gets_its_answer(big_srv):
    """The hang-up check must not cancel a client that is merely waiting (keep-alive, nothing sent)."""
    cancelled_before = metric(metrics(big_srv.url), "autoglm_requests_cancelled_total")
    with requests.Session() as sess:
        for _ in range(2):  # the second request reuses the connection
            r = sess.post(big_srv.url + "/v1/completions",
                          json={"prompt": "Once", "max_tokens": 24, "ignore_eos": True, "temperature": 0}, timeout=300)
            assert r.status_code == 200, r.text
            assert r.json()["usage"]["completion_tokens"] == 24
    assert metric(metrics(big_srv.url), "autoglm_requests_cancelled_total") == cancelled_before
