"""autoglm serve protections: API keys (401), body size (413), max_tokens/n caps and context length
(400), a full queue (429), CORS only when asked for, and SIGTERM draining in-flight requests (503 for
new ones) before exiting 0. After each, the server is still healthy."""
import http.client
import json
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import sse_events

KEY = "sk-test-1"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory("--ctx-size", 128, "--parallel", 1, "--max-queue", 1, "--api-key", f"{KEY},sk-test-2",
                          "--max-body-bytes", 65536, "--max-tokens-cap", 100, "--max-n", 2,
                          "--cors", "https://app.example")


def healthy(srv):
    return requests.get(srv.url + "/health", timeout=10).status_code == 200


def error_of(r, status):
    assert r.status_code == status, (r.status_code, r.text)
    e = r.json()["error"]
    assert isinstance(e["message"], str) and e["message"] and "type" in e and "code" in e and "param" in e
    return e


def post(srv, path, body, headers=AUTH):
    return requests.post(srv.url + path, json=body, headers=headers, timeout=60)


def test_api_key_required(srv):
    body = {"prompt": "Hi", "max_tokens": 2}
    error_of(post(srv, "/v1/completions", body, headers={}), 401)
    error_of(post(srv, "/v1/completions", body, headers={"Authorization": "Bearer wrong"}), 401)
    error_of(requests.get(srv.url + "/v1/models", timeout=10), 401)
    assert post(srv, "/v1/completions", body).status_code == 200
    assert post(srv, "/v1/completions", body, headers={"Authorization": "Bearer sk-test-2"}).status_code == 200
    assert healthy(srv)  # /health needs no key


def test_body_too_large_is_413(srv):
    r = post(srv, "/v1/completions", {"prompt": "x" * 70000, "max_tokens": 1})
    error_of(r, 413)
    # A client announcing a huge body gets 413 before sending it.
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Authorization: Bearer " + KEY.encode() + b"\r\nContent-Length: 1000000000\r\n\r\n{")
        head = s.recv(4096).decode(errors="replace")
    assert head.startswith("HTTP/1.1 413"), head
    assert healthy(srv)


def test_caps_and_context_length_are_400(srv):
    e = error_of(post(srv, "/v1/completions", {"prompt": "Hi", "max_tokens": 101}), 400)
    assert e["param"] == "max_tokens"
    e = error_of(post(srv, "/v1/completions", {"prompt": "Hi", "max_tokens": 5, "n": 3}), 400)
    assert e["param"] == "n"
    long_prompt = "Once upon a time there was a dog. " * 40
    e = error_of(post(srv, "/v1/chat/completions", {"messages": [{"role": "user", "content": long_prompt}]}), 400)
    assert e["code"] == "context_length_exceeded" and "128" in e["message"]
    n_prompt = len(post(srv, "/tokenize", {"content": long_prompt, "add_special": True}).json()["tokens"])
    e = error_of(post(srv, "/v1/completions", {"prompt": long_prompt}), 400)
    assert str(n_prompt) in e["message"]
    assert healthy(srv)


def test_full_queue_is_429(srv):
    # One sequence runs, one waits; the rest are turned away at once.
    body = {"prompt": [1, 400, 401], "max_tokens": 100, "ignore_eos": True}
    with ThreadPoolExecutor(8) as ex:
        codes = list(ex.map(lambda _: post(srv, "/v1/completions", body), range(8)))
    statuses = sorted(r.status_code for r in codes)
    assert 200 in statuses and 429 in statuses, statuses
    assert set(statuses) <= {200, 429}
    for r in codes:
        if r.status_code == 429:
            assert error_of(r, 429)["type"] == "rate_limit_error"
    assert healthy(srv)
    assert post(srv, "/v1/completions", {"prompt": "Hi", "max_tokens": 2}).status_code == 200


def test_cors_when_enabled(srv):
    r = requests.options(srv.url + "/v1/chat/completions", timeout=10,
                         headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST",
                                  "Access-Control-Request-Headers": "authorization, content-type"})
    assert r.status_code in (200, 204)
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "Authorization" in r.headers["Access-Control-Allow-Headers"]
    r = post(srv, "/v1/completions", {"prompt": "Hi", "max_tokens": 2})
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example"


def test_unknown_endpoint_is_404_json(srv):
    error_of(requests.get(srv.url + "/v1/nope", headers=AUTH, timeout=10), 404)
    assert healthy(srv)


def test_sigterm_drains_in_flight_streams_then_exits_0(server_factory):
    s = server_factory("--ctx-size", 2048, "--parallel", 2)
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
    body = {"prompt": "Once upon a time", "max_tokens": 600, "ignore_eos": True, "stream": True, "temperature": 0,
            "stream_options": {"include_usage": True}}
    conn.request("POST", "/v1/completions", json.dumps(body), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 200
    first = resp.readline()
    assert first.startswith(b"data: ")
    s.proc.send_signal(signal.SIGTERM)
    # While draining: /health says so and new generation requests get 503 (if we are quick enough
    # to ask before the stream ends; the listening socket stays open until then).
    try:
        h = requests.get(s.url + "/health", timeout=5)
        if h.status_code != 200:
            assert h.status_code == 503 and h.json()["status"] == "draining"
            r = requests.post(s.url + "/v1/completions", json={"prompt": "Hi", "max_tokens": 2}, timeout=5)
            assert r.status_code == 503 and r.json()["error"]["code"] == "draining"
    except requests.ConnectionError:
        pass
    rest = resp.read().decode()
    conn.close()
    events = sse_events([first.decode().strip()] + rest.split("\n\n"))
    assert events[-1] == "[DONE]"
    assert events[-2]["usage"]["completion_tokens"] == 600  # the request ran to its end
    assert events[-3]["choices"][0]["finish_reason"] == "length"
    assert s.proc.wait(30) == 0
