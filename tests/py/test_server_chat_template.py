"""autoglm serve's chat template: resolved and parsed once when the model loads (the model and
template files are not read again per request), and a template that fails on a request (its
raise_exception, a sandbox limit) is a 400 with the reason, never a crash."""
import shutil

import pytest
import requests

from conftest import BIN, STORIES
from served import Served

# Plain text around each message, with two ways to fail on demand.
TEMPLATE = ("{% for m in messages %}"
            "{% if 'boom' in m.content %}{{ raise_exception('the word boom is not allowed') }}{% endif %}"
            "{% if m.content == 'spin' %}{% for i in range(1000) %}{% for j in range(1000) %}x{% endfor %}{% endfor %}"
            "{% endif %}"
            "[{{ m.role }}] {{ m.content }}\n"
            "{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}")


@pytest.fixture(scope="module")
def tsrv(tmp_path_factory):
    if not BIN or not STORIES.exists():
        pytest.skip("AUTOGLM_BIN or stories260K missing")
    d = tmp_path_factory.mktemp("tmpl")
    model = d / "stories-copy.gguf"
    shutil.copyfile(STORIES, model)
    tmpl = d / "template.jinja"
    tmpl.write_text(TEMPLATE)
    s = Served(model, d / "server.log", "--ctx-size", 512, "--parallel", 4, "--chat-template", tmpl)
    s.wait_ready(120)
    s.model, s.tmpl = model, tmpl
    yield s
    assert s.stop() == 0, s.log()


def chat(s, content, **kw):
    return requests.post(s.url + "/v1/chat/completions",
                         json={"messages": [{"role": "user", "content": content}], "max_tokens": 2,
                               "temperature": 0, "return_prompt_tokens": True, **kw}, timeout=60)


def expected_ids(s, content):
    text = f"[user] {content}\n[assistant]"
    return requests.post(s.url + "/tokenize", json={"content": text, "add_special": True, "parse_special": True},
                         timeout=10).json()["tokens"]


def test_renders_with_the_given_template(tsrv):
    r = chat(tsrv, "Hello there")
    assert r.status_code == 200, r.text
    assert r.json()["prompt_token_ids"] == expected_ids(tsrv, "Hello there")


def test_template_and_model_files_are_not_read_per_request(tsrv):
    before = chat(tsrv, "Once upon a time").json()["prompt_token_ids"]
    # Replace the template file and delete the model file: a server that re-read them per request
    # would now render differently or fail to open the model.
    tsrv.tmpl.write_text("{{ raise_exception('the template file was read again') }}")
    tsrv.model.unlink()
    for _ in range(3):
        r = chat(tsrv, "Once upon a time")
        assert r.status_code == 200, r.text
        assert r.json()["prompt_token_ids"] == before == expected_ids(tsrv, "Once upon a time")


@pytest.mark.parametrize("content,why", [("boom goes the dynamite", "the word boom is not allowed"),
                                         ("spin", "limit")])
def test_template_error_is_a_400_and_the_server_keeps_serving(tsrv, content, why):
    r = chat(tsrv, content)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid_template" and err["param"] == "messages", err
    assert why in err["message"], err
    # Streaming requests are refused the same way, before any event is sent.
    rs = chat(tsrv, content, stream=True)
    assert rs.status_code == 400 and rs.json()["error"]["code"] == "invalid_template", rs.text
    assert requests.get(tsrv.url + "/health", timeout=10).status_code == 200
    assert chat(tsrv, "fine").status_code == 200


def test_bad_template_refuses_to_start(tmp_path):
    if not BIN or not STORIES.exists():
        pytest.skip("AUTOGLM_BIN or stories260K missing")
    s = Served(STORIES, tmp_path / "server.log", "--chat-template", "{% for m in messages %}{{ m.content }")
    rc = s.proc.wait(60)
    log = s.log()
    s.stop()
    assert rc != 0, log
    assert "line 1" in log or "column" in log or "template" in log, log
