#!/usr/bin/env python3
"""Golden outputs for the chat-template renderer, made by Hugging Face transformers.

Needs (in a scratch venv, not the test venv): transformers (no torch needed), tokenizers, jinja2.
    python3 -m venv /tmp/ctvenv && /tmp/ctvenv/bin/pip install transformers jinja2
    /tmp/ctvenv/bin/python scripts/gen_chat_template_fixtures.py

Renders every template in tests/data/chat_templates/*.jinja with transformers'
`apply_chat_template(..., tokenize=False)` (so with transformers' own Jinja environment:
trim_blocks, lstrip_blocks, its tojson, raise_exception) for several message lists, and a set of
small feature templates through the same call, and writes tests/data/chat_templates/expected.json.
A template that raises records {"error": true} and the renderer must fail there too. Messages
keep their key order (tojson prints keys in insertion order).
"""
import json
import pathlib
import sys

import transformers
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from transformers import PreTrainedTokenizerFast

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "chat_templates"

# bos/eos texts each model's tokenizer_config.json declares (passed to the template as HF does).
SPECIAL = {
    "smollm2_chatml": {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>"},
    "llama3.1": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "gemma2": {"bos_token": "<bos>", "eos_token": "<eos>"},
    "gemma3": {"bos_token": "<bos>", "eos_token": "<eos>"},
    "phi3": {"bos_token": "<s>", "eos_token": "<|endoftext|>"},
    "glm4": {"eos_token": "<|endoftext|>"},
    "qwen2.5": {"eos_token": "<|im_end|>"},
}

SYSTEM = {"role": "system", "content": "You are a concise assistant."}
TOOLS = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. Paris"},
                "days": {"type": "integer"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}]

CONVERSATIONS = {
    "single_user": [{"role": "user", "content": "Hello!"}],
    "system_user": [SYSTEM, {"role": "user", "content": "What is 2+2?"}],
    "multi_turn": [
        SYSTEM,
        {"role": "user", "content": "Hi there"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "Tell me a joke."},
    ],
    "no_system_multi": [
        {"role": "user", "content": "Name a colour."},
        {"role": "assistant", "content": "Blue."},
        {"role": "user", "content": "Another one?"},
    ],
    "unicode_whitespace": [
        {"role": "user", "content": "  Héllo 世界 👋\n\n  tabs\there  "},
        {"role": "assistant", "content": "\n Ça va? <|im_end|> \"quoted\" \\ back\n"},
        {"role": "user", "content": "Ελληνικά, עברית, 日本語"},
    ],
    "roles_out_of_order": [
        {"role": "user", "content": "one"},
        {"role": "user", "content": "two"},
    ],
}

TOOL_CONVERSATIONS = {
    "tools_question": [
        {"role": "user", "content": "What's the weather in Paris?"},
    ],
    "tools_call_and_result": [
        SYSTEM,
        {"role": "user", "content": "What's the weather in Paris for 3 days?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "function": {"name": "get_weather",
                                              "arguments": {"city": "Paris", "days": 3, "threshold": 0.5}}}]},
        {"role": "tool", "content": "{\"temperature\": 18.5, \"condition\": \"cloudy\"}"},
    ],
}
TOOL_TEMPLATES = {"llama3.1", "qwen2.5"}

# Small templates exercising one feature each, rendered through the same transformers call.
FEATURES = [
    ("whitespace_trim_lstrip", "A\n  {% if true %}\n  B\n  {% endif %}\nC\n", {}),
    ("whitespace_dash", "x  {{- ' y ' -}}  z\n{%- if true -%}  w  {%- endif -%}\n!", {}),
    ("whitespace_plus", "a\n  {%+ if true %}b{% endif +%}\nc", {}),
    ("comment", "a {# note #}\n  {#- dashed -#}  b\n{# line #}\nc", {}),
    ("trailing_newline", "hello\n", {}),
    ("literals", "{{ 1 }} {{ 1.5 }} {{ 1e-5 }} {{ 2.0 }} {{ 1e20 }} {{ 0.1 + 0.2 }} {{ true }} {{ none }} "
     "{{ [1, 'a', none, true] }} {{ {'k': 'v', 'n': [1.0]} }} {{ 'it\\'s' }} {{ \"q\\\"\" }}", {}),
    ("arithmetic", "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1 + 2 * 3 }} "
     "{{ 'a' ~ 1 ~ none }} {{ 'ab' * 3 }} {{ [1] + [2] }} {{ -3 }} {{ 4 / 2 }}", {}),
    ("compare_logic", "{{ 1 < 2 }} {{ 'a' < 'b' }} {{ 1 == 1.0 }} {{ 'x' in 'xyz' }} {{ 3 not in [1, 2] }} "
     "{{ 'k' in {'k': 1} }} {{ none or 'd' }} {{ 0 and 1 }} {{ not [] }} {{ 1 if false else 2 }} "
     "[{{ 'y' if false }}]", {}),
    ("loop_vars", "{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}"
     "{{ loop.length }}{{ loop.revindex }}|{% endfor %}", {"xs": ["a", "b", "c"]}),
    ("loop_else_filter", "{% for x in xs if x > 1 %}{{ x }}{% else %}empty{% endfor %}"
     "{% for x in [] %}{{ x }}{% else %}none{% endfor %}", {"xs": [1, 2, 3]}),
    ("loop_scope_namespace", "{% set n = 0 %}{% set ns = namespace(n=0, s='') %}{% for x in xs %}{% set n = n + x %}"
     "{% set ns.n = ns.n + x %}{% set ns.s = ns.s ~ x %}{% endfor %}{{ n }} {{ ns.n }} {{ ns.s }}", {"xs": [1, 2, 3]}),
    ("loop_dict_items", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k in d %}{{ k }}{% endfor %}"
     "{% for p in d | items %}{{ p[0] }}{% endfor %}", {"d": {"b": 1, "a": 2}}),
    ("break_continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}"
     "{% endif %}{{ x }}{% endfor %}", {}),
    ("filters_text", "{{ '  hi  ' | trim }}|{{ 'abc' | upper }}|{{ 'ABC' | lower }}|{{ 'hello world' | capitalize }}|"
     "{{ 'hello world' | title }}|{{ 'aXbX' | replace('X', '-') }}|{{ 'xx' | replace('x', 'yy', 1) }}|"
     "{{ 'héllo' | length }}|{{ 5 | string }}|{{ '42' | int + 1 }}|{{ 'x' | int }}|{{ 3.9 | int }}|"
     "{{ '2.5' | float }}|{{ 'ÉCOLE' | lower }}", {}),
    ("filters_list", "{{ xs | join(', ') }}|{{ xs | first }}|{{ xs | last }}|{{ xs | length }}|{{ xs | reverse | list }}|"
     "{{ xs | sort }}|{{ [3, 1, 2] | sort(reverse=true) }}|{{ [1, 1, 2] | unique | list }}|{{ [1, 2] | sum }}|"
     "{{ [3, 7] | max }}|{{ ['b', 'a'] | min }}|{{ people | map(attribute='name') | join('/') }}|"
     "{{ people | selectattr('age', 'gt', 30) | map(attribute='name') | list }}|"
     "{{ people | rejectattr('admin') | list | length }}|{{ [1, none, 2] | select | list }}|"
     "{{ ['a', 'b'] | map('upper') | list }}", {"xs": ["c", "a", "b"], "people": [
        {"name": "Ann", "age": 41, "admin": True}, {"name": "Bob", "age": 25, "admin": False}]}),
    ("filter_default", "{{ missing | default('d') }}|{{ '' | default('e') }}|{{ '' | default('e', true) }}|"
     "{{ none | default('n') }}|{{ missing | d('x') }}", {}),
    ("tojson", "{{ obj | tojson }}|{{ obj | tojson(indent=2) }}|{{ 'é\"\\n' | tojson }}|{{ [] | tojson }}|"
     "{{ {} | tojson(indent=2) }}|{{ [1.5, none, true] | tojson }}", {"obj": {"z": 1, "a": [1, {"b": None}], "s": "ü"}}),
    ("tests", "{{ x is defined }}{{ y is defined }}{{ y is undefined }}{{ none is none }}{{ 'a' is string }}"
     "{{ 1 is number }}{{ 1 is integer }}{{ 1.0 is float }}{{ {} is mapping }}{{ [] is iterable }}"
     "{{ 'a' is iterable }}{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ 9 is divisibleby(2) }}"
     "{{ 'a' is equalto 'a' }}{{ x is not none }}{{ true is boolean }}{{ range is callable }}", {"x": 1}),
    ("string_methods", "{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|"
     "{{ 'abc'.startswith('ab') }}|{{ 'abc'.endswith('bc') }}|{{ 'abc'.upper() }}|{{ 'ABC'.lower() }}|"
     "{{ 'hello there'.title() }}|{{ 'xxhixx'.strip('x') }}|{{ 'a-b'.replace('-', '+') }}|"
     "{{ 'a</think>b'.split('</think>')[-1] }}|{{ '\\n\\nx'.lstrip('\\n') }}|{{ 'abc'.find('c') }}|"
     "{{ 'a b c'.split(' ', 1) }}|{{ '-'.join(['x', 'y']) }}", {"s": "  pad  "}),
    ("dict_methods", "{{ d.get('a') }}|{{ d.get('zz') }}|{{ d.get('zz', 5) }}|{{ d.keys() | list }}|"
     "{{ d.values() | list }}|{{ d['a'] }}|{{ d.a }}|{{ d.missing is defined }}", {"d": {"a": 1, "b": [2]}}),
    ("slicing", "{{ xs[1:] }}|{{ xs[:2] }}|{{ xs[::-1] }}|{{ xs[-1] }}|{{ xs[-2:] }}|{{ 'héllo'[1:3] }}|"
     "{{ 'abc'[::-1] }}|{{ xs[10] is defined }}|{{ xs[1:10:2] }}|{{ 'abc'[-1] }}", {"xs": [1, 2, 3, 4]}),
    ("macro", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} "
     "{{ greet('B', '?') }} {{ greet(name='C', punct='.') }}", {}),
    ("recursive_macro", "{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(5) }}", {}),
    ("set_block", "{% set x %}inner {{ 1 + 1 }}{% endset %}[{{ x }}]{% set a, b = [1, 2] %}{{ a }}{{ b }}", {}),
    ("message_access", "{% for m in messages %}{{ m.role }}:{{ m['content'] }}{% if m.tool_calls is defined %}"
     "*{% endif %};{% endfor %}{{ messages | length }}", {}),
    ("raise_exception", "{{ raise_exception('bad role') }}", {}),
    ("undefined_attr_error", "{{ nope.attr }}", {}),
    ("string_plus_int_error", "{{ 'a' + 1 }}", {}),
    ("print_undefined", "[{{ nope }}][{{ nope | length }}][{% for x in nope %}{{ x }}{% endfor %}]", {}),
    ("whitespace_mixed", "x \t\n\t  {%- if true %} y{% endif %}\n\t{% if true %}\n\tz\n\t{% endif %}\n  {{ 'v' }}\n"
     "{#- c #}  w  {# d #}\n", {}),
    ("loop_prev_next", "{% for x in xs %}{{ loop.previtem | default('^') }}{{ x }}{{ loop.nextitem | default('$') }} "
     "{% endfor %}{% for c in 'ab' %}{{ c }}.{% endfor %}{% for k in {'q': 1, 'p': 2} %}{{ k }}{% endfor %}",
     {"xs": [1, 2, 3]}),
    ("numbers_format", "{{ 10 / 4 }} {{ 2 ** -1 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 1000000.0 }} {{ 1e16 }} {{ -0.0 }} "
     "{{ 123456789012345678 }} {{ 0.1 | round(1) }} {{ 2.5 | round }} {{ 3 | float }} {{ 1.0 | int }} {{ 1e100 }} "
     "{{ 1 == true }} {{ 0.000123 }} {{ 123456.789e3 }}", {}),
    ("tojson_edge", "{{ v | tojson }}|{{ v | tojson(indent=4) }}", {"v": {"ctl": "a\u0001b\tc", "uni": "日本 ü 👋",
     "nums": [-1, 0.5, 1e100, 12345678901234], "empty": [], "obj": {}, "nested": [[], {}]}}),
    ("precedence", "{{ 'Hello' ~ ' ' ~ name | upper }}|{{ not x is defined }}|{{ 1 + 2 | string }}|"
     "{{ -2 ** 2 }}|{{ (1 + 2) * 3 }}|{{ 'ab' 'cd' }}|{{ 2 * 3 + 1 }}|{{ 1 < 2 and 3 > 4 or 5 }}", {"name": "bob"}),
    ("string_escapes", "{{ 'a\\tb' }}|{{ 'caf\\u00e9' }}|{{ \"it's\" }}|{{ 'x\\\\y' }}|{{ '\\x41' }}", {}),
    ("strings_misc", "{{ none | string }}|{{ true | string | upper }}|{{ [1, 2] | join('-') }}|{{ 'abc' | first }}|"
     "{{ [] | first is defined }}|{{ d | dictsort }}|{{ [1, 2, 3][1:] | length }}|{{ '  x  ' | trim | length }}|"
     "{{ 'a\\nb' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'one two  three' | wordcount }}",
     {"d": {"b": 2, "a": 1}}),
    ("dash_loops", "{%- for m in messages -%}\n  {{ m.role }}\n{%- endfor %}\n[{{- ' x ' -}}]", {}),
    ("set_default", "{% set x = x | default(5) %}{{ x }}{% if y is not defined %}{% set y = 'dflt' %}{% endif %}{{ y }}",
     {}),
    ("cond_expr", "{{ messages[0]['content'] if messages else '' }}|{{ 'yes' if 'u1' in messages | map(attribute='content') "
     "else 'no' }}|{{ (messages | selectattr('role', 'equalto', 'assistant') | list | length) }}", {}),
    ("unicode_case", "{{ 'straße'.upper() }}|{{ 'ǅ' | lower }}|{{ 'éa' | capitalize }}", {}),
]
FEATURE_MESSAGES = [{"role": "user", "content": "u1"},
                    {"role": "assistant", "content": "a1", "tool_calls": [{"function": {"name": "f"}}]}]


def make_tokenizer(special):
    tok = Tokenizer(WordLevel({"<unk>": 0}, unk_token="<unk>"))
    return PreTrainedTokenizerFast(tokenizer_object=tok, **special)


def render(template, messages, add_generation_prompt, special, tools=None, extra=None):
    tok = make_tokenizer(special)
    try:
        return {"output": tok.apply_chat_template(messages, chat_template=template, tools=tools, tokenize=False,
                                                  add_generation_prompt=add_generation_prompt, **(extra or {}))}
    except Exception as e:  # the renderer must fail on the same inputs
        return {"error": True, "reference_error": f"{type(e).__name__}: {e}"}


def main():
    cases = []
    for path in sorted(DATA.glob("*.jinja")):
        name = path.stem
        template = path.read_text(encoding="utf-8")
        special = SPECIAL[name]
        convs = dict(CONVERSATIONS)
        if name in TOOL_TEMPLATES:
            convs.update(TOOL_CONVERSATIONS)
        for conv_name, messages in convs.items():
            tools = TOOLS if conv_name.startswith("tools_") else None
            for agp in (True, False):
                case = {"template": path.name, "name": f"{name}/{conv_name}/{'gen' if agp else 'nogen'}",
                        "messages": messages, "add_generation_prompt": agp, "extra": dict(special)}
                if tools:
                    case["extra"]["tools"] = tools
                case.update(render(template, messages, agp, special, tools))
                cases.append(case)
    features = []
    for name, template, variables in FEATURES:
        case = {"name": f"feature/{name}", "source": template, "messages": FEATURE_MESSAGES,
                "add_generation_prompt": False, "extra": variables}
        case.update(render(template, FEATURE_MESSAGES, False, {}, None, variables))
        features.append(case)
    out = {"generator": "scripts/gen_chat_template_fixtures.py",
           "reference": f"transformers {transformers.__version__} apply_chat_template(tokenize=False)",
           "templates": cases, "features": features}
    (DATA / "expected.json").write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    errors = sum(1 for c in cases + features if c.get("error"))
    print(f"wrote {len(cases)} template cases and {len(features)} feature cases ({errors} expected errors)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
