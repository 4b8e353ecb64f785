"""Hostile and malformed request bodies: each gets a 4xx OpenAI error object; none crashes the server."""
import pytest
import requests

BAD_COMPLETION_BODIES = {
    "empty": b"",
    "truncated": b'{"prompt": "Once upon", "max_tokens": 5',
    "truncated_string": b'{"prompt": "Once up',
    "not_json": b"prompt=hello",
    "array": b'[{"prompt": "hi"}]',
    "string": b'"hello"',
    "number": b"42",
    "null": b"null",
    "deeply_nested": b'{"prompt": ' + b"[" * 100000 + b"]" * 100000 + b"}",
    "deeply_nested_objects": b'{"a":' * 5000 + b"1" + b"}" * 5000,
    "nan_temperature": b'{"prompt": "hi", "temperature": NaN}',
    "infinite_temperature": b'{"prompt": "hi", "temperature": 1e999}',
    "string_temperature": b'{"prompt": "hi", "temperature": "hot"}',
    "negative_temperature": b'{"prompt": "hi", "temperature": -1}',
    "negative_max_tokens": b'{"prompt": "hi", "max_tokens": -5}',
    "zero_max_tokens": b'{"prompt": "hi", "max_tokens": 0}',
    "huge_max_tokens": b'{"prompt": "hi", "max_tokens": 100000000000000000000}',
    "float_max_tokens": b'{"prompt": "hi", "max_tokens": 1e30}',
    "string_max_tokens": b'{"prompt": "hi", "max_tokens": "5"}',
    "missing_prompt": b'{"max_tokens": 5}',
    "prompt_number": b'{"prompt": 5}',
    "prompt_object": b'{"prompt": {"text": "hi"}}',
    "prompt_empty_list": b'{"prompt": []}',
    "prompt_mixed_list": b'{"prompt": [1, "a"]}',
    "out_of_vocab_id": b'{"prompt": [1, 999999]}',
    "negative_token_id": b'{"prompt": [1, -3]}',
    "huge_token_id": b'{"prompt": [18446744073709551615]}',
    "float_token_id": b'{"prompt": [1.5]}',
    "invalid_utf8": b'{"prompt": "\xff\xfe\xc3"}',
    "overlong_utf8": b'{"prompt": "\xc0\xaf"}',
    "lone_surrogate_escape": b'{"prompt": "\\ud800"}',
    "stop_number": b'{"prompt": "hi", "stop": 5}',
    "stop_list_of_numbers": b'{"prompt": "hi", "stop": [1, 2]}',
    "logit_bias_list": b'{"prompt": "hi", "logit_bias": [1]}',
    "logit_bias_bad_key": b'{"prompt": "hi", "logit_bias": {"abc": 1}}',
    "logit_bias_oov_key": b'{"prompt": "hi", "logit_bias": {"999999": 1}}',
    "logit_bias_nan": b'{"prompt": "hi", "logit_bias": {"5": "x"}}',
    "n_string": b'{"prompt": "hi", "n": "2"}',
    "n_zero": b'{"prompt": "hi", "n": 0}',
    "n_huge": b'{"prompt": "hi", "n": 1000}',
    "stream_string": b'{"prompt": "hi", "stream": "yes"}',
    "stream_options_list": b'{"prompt": "hi", "stream_options": [1]}',
    "top_p_above_one": b'{"prompt": "hi", "top_p": 1.5}',
    "top_k_negative": b'{"prompt": "hi", "top_k": -1}',
    "seed_string": b'{"prompt": "hi", "seed": "42"}',
    "seed_float": b'{"prompt": "hi", "seed": 4.2}',
    "logprobs_too_many": b'{"prompt": "hi", "logprobs": 50}',
    "penalty_out_of_range": b'{"prompt": "hi", "presence_penalty": 7}',
    "session_id_number": b'{"prompt": "hi", "session_id": 7}',
    "model_number": b'{"prompt": "hi", "model": 7}',
}

BAD_CHAT_BODIES = {
    "messages_missing": b'{"max_tokens": 3}',
    "messages_string": b'{"messages": "hello"}',
    "messages_empty": b'{"messages": []}',
    "message_not_object": b'{"messages": ["hi"]}',
    "role_number": b'{"messages": [{"role": 5, "content": "hi"}]}',
    "role_unknown": b'{"messages": [{"role": "wizard", "content": "hi"}]}',
    "content_number": b'{"messages": [{"role": "user", "content": 5}]}',
    "content_image_part": b'{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": "x"}]}]}',
    "content_invalid_utf8": b'{"messages": [{"role": "user", "content": "\xed\xa0\x80"}]}',
    "top_logprobs_without_logprobs": b'{"messages": [{"role": "user", "content": "hi"}], "top_logprobs": 2}',
    "logprobs_number": b'{"messages": [{"role": "user", "content": "hi"}], "logprobs": 3}',
    "n_with_session": b'{"messages": [{"role": "user", "content": "hi"}], "n": 2, "session_id": "s"}',
}

BAD_TOKENIZER_BODIES = {
    ("/tokenize", "content_missing"): b"{}",
    ("/tokenize", "content_number"): b'{"content": 5}',
    ("/tokenize", "add_special_string"): b'{"content": "hi", "add_special": "yes"}',
    ("/detokenize", "tokens_missing"): b"{}",
    ("/detokenize", "tokens_oov"): b'{"tokens": [1, 100000]}',
    ("/detokenize", "tokens_negative"): b'{"tokens": [-1]}',
    ("/detokenize", "tokens_strings"): b'{"tokens": ["a"]}',
}


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory("--ctx-size", 256, "--parallel", 4, "--max-n", 4)


def check_error(srv, path, body):
    r = requests.post(srv.url + path, data=body, headers={"Content-Type": "application/json"}, timeout=30)
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    err = r.json()["error"]
    assert isinstance(err["message"], str) and err["message"]
    assert err["type"] == "invalid_request_error"


@pytest.mark.parametrize("name", sorted(BAD_COMPLETION_BODIES))
def test_bad_completion_body(srv, name):
    check_error(srv, "/v1/completions", BAD_COMPLETION_BODIES[name])


@pytest.mark.parametrize("name", sorted(BAD_CHAT_BODIES))
def test_bad_chat_body(srv, name):
    check_error(srv, "/v1/chat/completions", BAD_CHAT_BODIES[name])


@pytest.mark.parametrize("key", sorted(BAD_TOKENIZER_BODIES), ids=lambda k: f"{k[0][1:]}-{k[1]}")
def test_bad_tokenizer_body(srv, key):
    check_error(srv, key[0], BAD_TOKENIZER_BODIES[key])


def test_still_healthy_and_serving_after_bad_bodies(srv):
    for body in list(BAD_COMPLETION_BODIES.values())[:10]:
        requests.post(srv.url + "/v1/completions", data=body, timeout=30)
    assert requests.get(srv.url + "/health", timeout=10).status_code == 200
    r = requests.post(srv.url + "/v1/completions", json={"prompt": "Hi", "max_tokens": 3}, timeout=30)
    assert r.status_code == 200 and r.json()["choices"][0]["text"] is not None
