"""autoglm serve, as OpenAI clients use it: chat, completions, streaming, n, logprobs, stop, sessions,
tokenize/detokenize, models, metrics and the chat page (stories260K)."""
import json

import openai
import pytest
import requests

from conftest import metric, sse_events

PROMPT = "Once upon a time, there was a little girl named Lily."


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory("--ctx-size", 512, "--parallel", 8)


@pytest.fixture(scope="module")
def client(srv):
    return openai.OpenAI(base_url=srv.url + "/v1", api_key="test-key", max_retries=0, timeout=60)


def post(srv, path, body, **kw):
    return requests.post(srv.url + path, json=body, timeout=60, **kw)


def stream_raw(srv, path, body):
    r = requests.post(srv.url + path, json={**body, "stream": True}, stream=True, timeout=60)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/event-stream")
    return sse_events(r.iter_lines())


def test_health_models_and_page(srv):
    r = requests.get(srv.url + "/health", timeout=10)
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    models = requests.get(srv.url + "/v1/models", timeout=10).json()
    assert models["object"] == "list" and models["data"][0]["object"] == "model" and models["data"][0]["id"]
    page = requests.get(srv.url + "/", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "/v1/chat/completions" in page.text and "<script>" in page.text


def test_chat_completion_with_openai_client(client):
    r = client.chat.completions.create(model="stories", messages=[{"role": "user", "content": PROMPT}],
                                       max_tokens=24, temperature=0)
    assert r.object == "chat.completion" and r.id.startswith("chatcmpl-")
    c = r.choices[0]
    assert c.message.role == "assistant" and isinstance(c.message.content, str) and c.message.content
    assert c.finish_reason in ("stop", "length")
    assert r.usage.prompt_tokens > 10 and 0 < r.usage.completion_tokens <= 24
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    assert r.usage.prompt_tokens_details.cached_tokens >= 0


def test_completion_with_openai_client(client):
    r = client.completions.create(model="stories", prompt=PROMPT, max_tokens=16, temperature=0)
    assert r.object == "text_completion" and r.choices[0].text
    assert r.choices[0].finish_reason in ("stop", "length")
    assert 0 < r.usage.completion_tokens <= 16
    # The same request again is deterministic (greedy) and its prompt comes from the prefix cache.
    again = client.completions.create(model="stories", prompt=PROMPT, max_tokens=16, temperature=0)
    assert again.choices[0].text == r.choices[0].text


@pytest.mark.parametrize("chat", [True, False], ids=["chat", "completion"])
def test_stream_equals_non_stream_for_same_seed(srv, client, chat):
    kw = dict(model="stories", max_tokens=40, temperature=0.9, top_p=0.95, seed=1234)
    if chat:
        full = client.chat.completions.create(messages=[{"role": "user", "content": PROMPT}], **kw)
        chunks = list(client.chat.completions.create(messages=[{"role": "user", "content": PROMPT}], stream=True,
                                                     stream_options={"include_usage": True}, **kw))
        text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
        expected = full.choices[0].message.content
        assert chunks[0].choices[0].delta.role == "assistant"
    else:
        full = client.completions.create(prompt=PROMPT, **kw)
        chunks = list(client.completions.create(prompt=PROMPT, stream=True, stream_options={"include_usage": True},
                                                **kw))
        text = "".join(ch.choices[0].text for ch in chunks if ch.choices)
        expected = full.choices[0].text
    assert text == expected
    finals = [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason]
    assert finals == [full.choices[0].finish_reason]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == full.usage.completion_tokens
    assert chunks[-1].usage.prompt_tokens == full.usage.prompt_tokens


def test_raw_stream_is_well_formed_sse(srv):
    events = stream_raw(srv, "/v1/completions", {"prompt": PROMPT, "max_tokens": 12, "temperature": 0})
    assert events[-1] == "[DONE]"
    assert all(isinstance(e, dict) and e["object"] == "text_completion" for e in events[:-1])
    assert events[-2]["choices"][0]["finish_reason"] in ("stop", "length")
    assert "usage" not in events[0]  # only with stream_options.include_usage


def test_prompt_as_token_ids_equals_prompt_as_text(srv):
    ids = post(srv, "/tokenize", {"content": PROMPT, "add_special": True}).json()["tokens"]
    a = post(srv, "/v1/completions", {"prompt": PROMPT, "max_tokens": 16, "temperature": 0}).json()
    b = post(srv, "/v1/completions", {"prompt": ids, "max_tokens": 16, "temperature": 0}).json()
    assert a["choices"][0]["text"] == b["choices"][0]["text"]
    assert a["usage"]["prompt_tokens"] == b["usage"]["prompt_tokens"] == len(ids)


def test_n_choices_use_consecutive_seeds(srv):
    body = {"prompt": PROMPT, "max_tokens": 20, "temperature": 1.0, "seed": 77}
    many = post(srv, "/v1/completions", {**body, "n": 3}).json()
    assert [c["index"] for c in many["choices"]] == [0, 1, 2]
    total = 0
    for i in range(3):
        one = post(srv, "/v1/completions", {**body, "seed": 77 + i}).json()
        assert one["choices"][0]["text"] == many["choices"][i]["text"]
        total += one["usage"]["completion_tokens"]
    assert many["usage"]["completion_tokens"] == total


def test_n_choices_stream(srv):
    events = stream_raw(srv, "/v1/chat/completions", {"messages": [{"role": "user", "content": "Hi"}], "n": 2,
                                                      "max_tokens": 10, "seed": 3})
    assert events[-1] == "[DONE]"
    indexes = {e["choices"][0]["index"] for e in events[:-1]}
    assert indexes == {0, 1}
    for i in (0, 1):
        assert sum(1 for e in events[:-1] if e["choices"][0]["index"] == i and e["choices"][0]["finish_reason"]) == 1


def test_logprobs_chat_and_completion(client):
    r = client.chat.completions.create(model="s", messages=[{"role": "user", "content": PROMPT}], max_tokens=5,
                                       temperature=0, logprobs=True, top_logprobs=3)
    content = r.choices[0].logprobs.content
    assert len(content) == r.usage.completion_tokens
    for t in content:
        assert t.logprob <= 0 and len(t.top_logprobs) == 3
        assert t.top_logprobs[0].logprob >= t.top_logprobs[-1].logprob
        assert abs(t.top_logprobs[0].logprob - t.logprob) < 1e-4  # greedy picks the most likely token
    c = client.completions.create(model="s", prompt=PROMPT, max_tokens=5, temperature=0, logprobs=2)
    lp = c.choices[0].logprobs
    assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == c.usage.completion_tokens
    assert all(len(t) <= 2 for t in lp.top_logprobs) and lp.text_offset[0] == 0


def test_stop_string_ends_generation_before_it(srv):
    base = {"prompt": PROMPT, "max_tokens": 60, "temperature": 0}
    text = post(srv, "/v1/completions", base).json()["choices"][0]["text"]
    words = text.split()
    assert len(words) > 4
    stop = " " + words[3]
    r = post(srv, "/v1/completions", {**base, "stop": [stop, "zzzz"]}).json()
    assert r["choices"][0]["finish_reason"] == "stop"
    assert r["choices"][0]["text"] == text[:text.index(stop)]


def test_penalties_and_logit_bias_are_accepted_and_change_output(srv):
    base = {"prompt": PROMPT, "max_tokens": 30, "temperature": 0}
    plain = post(srv, "/v1/completions", base).json()["choices"][0]["text"]
    first = post(srv, "/tokenize", {"content": plain})
    first_id = first.json()["tokens"][0]
    banned = post(srv, "/v1/completions", {**base, "logit_bias": {str(first_id): -100}}).json()
    assert banned["choices"][0]["text"] != plain
    r = post(srv, "/v1/completions", {**base, "presence_penalty": 1.5, "frequency_penalty": 1.0,
                                      "repetition_penalty": 1.3, "top_k": 5, "min_p": 0.05, "user": "u1"})
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["text"] != plain


def test_tokenize_detokenize_round_trip(srv):
    ids = post(srv, "/tokenize", {"content": "Hello world, ünïcödé!"}).json()["tokens"]
    assert ids and all(isinstance(i, int) for i in ids)
    with_bos = post(srv, "/tokenize", {"content": "Hello", "add_special": True}).json()["tokens"]
    assert with_bos[0] == 1  # stories260K's BOS
    text = post(srv, "/detokenize", {"tokens": ids}).json()["content"]
    assert text.strip() == "Hello world, ünïcödé!"


def test_user_typed_control_token_stays_text(srv):
    # "</s>" is stories260K's EOS and "<s>" its BOS: typed by a user they must stay plain text.
    r = post(srv, "/v1/chat/completions", {"messages": [{"role": "user", "content": "<s>hi</s> there"}],
                                           "max_tokens": 2, "return_prompt_tokens": True}).json()
    ids = r["prompt_token_ids"]
    assert ids[0] == 1 and ids.count(1) == 1 and 2 not in ids
    text = post(srv, "/detokenize", {"tokens": ids}).json()["content"]
    assert "<s>hi</s> there" in text
    # The same holds for a raw completion prompt.
    c = post(srv, "/v1/completions", {"prompt": "a</s>b", "max_tokens": 1}).json()
    plain = post(srv, "/tokenize", {"content": "a</s>b", "add_special": True}).json()["tokens"]
    assert c["usage"]["prompt_tokens"] == len(plain) > 3


def test_session_second_turn_prefills_only_new_tokens(srv):
    msgs = [{"role": "user", "content": "Tell me a story about a cat."}]
    body = {"max_tokens": 24, "temperature": 0, "session_id": "story-1"}
    hdr = {"Authorization": "Bearer alice"}
    t1 = post(srv, "/v1/chat/completions", {**body, "messages": msgs}, headers=hdr).json()
    reply = t1["choices"][0]["message"]["content"]
    msgs += [{"role": "assistant", "content": reply}, {"role": "user", "content": "What happened next?"}]
    t2 = post(srv, "/v1/chat/completions", {**body, "messages": msgs}, headers=hdr).json()
    cached = t2["usage"]["prompt_tokens_details"]["cached_tokens"]
    new_tokens = t2["usage"]["prompt_tokens"] - cached
    # Turn 2 reuses turn 1's prompt and reply; only the new text (plus the reply's closing) is prefilled.
    assert cached >= t1["usage"]["prompt_tokens"], (t1["usage"], t2["usage"])
    assert new_tokens < t2["usage"]["prompt_tokens"] - t1["usage"]["prompt_tokens"], (t1["usage"], t2["usage"])


def test_metrics_exposition(srv):
    post(srv, "/v1/completions", {"prompt": PROMPT, "max_tokens": 4})
    text = requests.get(srv.url + "/metrics", timeout=10).text
    for name in ["autoglm_requests_waiting", "autoglm_requests_running", "autoglm_kv_blocks_used",
                 "autoglm_kv_blocks_free", "autoglm_prefix_cache_hit_rate", "autoglm_generated_tokens_total",
                 "autoglm_prompt_tokens_total"]:
        metric(text, name)
    assert metric(text, "autoglm_generated_tokens_total") > 0
    assert 'autoglm_http_requests_total{endpoint="/v1/completions",status="200"}' in text
    assert "autoglm_time_to_first_token_seconds_bucket{le=\"+Inf\"}" in text
    assert "autoglm_time_per_output_token_seconds_count" in text
    assert metric(text, "autoglm_kv_blocks_used") + metric(text, "autoglm_kv_blocks_free") == metric(
        text, "autoglm_kv_blocks_total")


def test_no_cors_headers_by_default(srv):
    r = requests.get(srv.url + "/v1/models", headers={"Origin": "http://evil.example"}, timeout=10)
    assert "Access-Control-Allow-Origin" not in r.headers
