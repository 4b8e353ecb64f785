// Built-in chat templates for models whose files carry none, selected by name. Each is its
// family's published template (sources in tests/data/chat_templates/SOURCES.md):
//   chatml  generic ChatML (<|im_start|>role ... <|im_end|>), as Qwen/SmolLM use without tools
//   llama3  Meta Llama 3 Instruct (the 3.0 template: no tools, no date header)
//   gemma   Gemma 3 (system text folded into the first user turn; Gemma 2 rejects system roles)
//   phi3    Phi-3.5-mini-instruct (system/user/assistant, <|end|> after each turn)
//   glm4    GLM-4-9B-chat
#include <string_view>

#include "tokenizer/chat_template/chat_template.h"

namespace autoglm {
namespace {

struct Builtin {
  const char* name;
  const char* source;
};

const Builtin kBuiltins[] = {
    {"chatml", R"TPL({% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message)TPL"
     R"TPL(['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ )TPL"
     R"TPL('<|im_start|>assistant\n' }}{% endif %})TPL"},
    {"llama3", R"TPL({% set loop_messages = messages %}{% for message in loop_messages %}{% set conte)TPL"
     R"TPL(nt = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message[)TPL"
     R"TPL('content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos)TPL"
     R"TPL(_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prom)TPL"
     R"TPL(pt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %})TPL"},
    {"gemma", R"TPL({{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- if messages[0)TPL"
     R"TPL(]['content'] is string -%}
        {%- set first_user_prefix = messages[0]['cont)TPL"
     R"TPL(ent'] + '\n\n' -%}
    {%- else -%}
        {%- set first_user_prefix = messages)TPL"
     R"TPL([0]['content'][0]['text'] + '\n\n' -%}
    {%- endif -%}
    {%- set loop_messag)TPL"
     R"TPL(es = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%)TPL"
     R"TPL(- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_message)TPL"
     R"TPL(s -%}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
     )TPL"
     R"TPL(   {{ raise_exception("Conversation roles must alternate user/assistant/user/ass)TPL"
     R"TPL(istant/...") }}
    {%- endif -%}
    {%- if (message['role'] == 'assistant') -%)TPL"
     R"TPL(}
        {%- set role = "model" -%}
    {%- else -%}
        {%- set role = mes)TPL"
     R"TPL(sage['role'] -%}
    {%- endif -%}
    {{ '<start_of_turn>' + role + '\n' + (fir)TPL"
     R"TPL(st_user_prefix if loop.first else "") }}
    {%- if message['content'] is string)TPL"
     R"TPL( -%}
        {{ message['content'] | trim }}
    {%- elif message['content'] is )TPL"
     R"TPL(iterable -%}
        {%- for item in message['content'] -%}
            {%- if i)TPL"
     R"TPL(tem['type'] == 'image' -%}
                {{ '<start_of_image>' }}
            )TPL"
     R"TPL({%- elif item['type'] == 'text' -%}
                {{ item['text'] | trim }}
  )TPL"
     R"TPL(          {%- endif -%}
        {%- endfor -%}
    {%- else -%}
        {{ raise)TPL"
     R"TPL(_exception("Invalid content type") }}
    {%- endif -%}
    {{ '<end_of_turn>\n')TPL"
     R"TPL( }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{ '<start_of_turn>model)TPL"
     R"TPL(\n' }}
{%- endif -%}
)TPL"},
    {"phi3", R"TPL({% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\n)TPL"
     R"TPL(' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'user' %}{{'<|u)TPL"
     R"TPL(ser|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'assista)TPL"
     R"TPL(nt' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}{% endf)TPL"
     R"TPL(or %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token)TPL"
     R"TPL( }}{% endif %})TPL"},
    {"glm4", R"TPL([gMASK]<sop>{% for item in messages %}{% if item['tools'] is defined %}<|system|)TPL"
     R"TPL(>
你是一个名为 ChatGLM 的人工智能助手。你是基于智谱AI训练的语言模型 GLM-4 模型开发的，你的任务是针对用户的问题和要求提供适当的答复和支持。
)TPL"
     R"TPL(
# 可用工具{% set tools = item['tools'] %}{% for tool in tools %}{% if tool['type'] )TPL"
     R"TPL(== 'function' %}

## {{ tool['function']['name'] }}

{{ tool['function'] | tojso)TPL"
     R"TPL(n(indent=4) }}
在调用上述函数时，请使用 Json 格式表示调用的参数。{% elif tool['type'] == 'python' %}

)TPL"
     R"TPL(## python

当你向 `python` 发送包含 Python 代码的消息时，该代码将会在一个有状态的 Jupyter notebook 环境中执行。
)TPL"
     R"TPL(`python` 返回代码执行的输出，或在执行 60 秒后返回超时。
`/mnt/data` 将会持久化存储你的文件。在此会话中，`python` 无法访问互联)TPL"
     R"TPL(网。不要使用 `python` 进行任何网络请求或者在线 API 调用，这些在线内容的访问将不会成功。{% elif tool['type'] == 'simp)TPL"
     R"TPL(le_browser' %}

## simple_browser

你可以使用 `simple_browser` 工具。该工具支持以下函数：
`search()TPL"
     R"TPL(query: str, recency_days: int)`：使用搜索引擎进行查询并显示结果，可以使用 `recency_days` 参数控制搜索内容的时效性)TPL"
     R"TPL(。
`mclick(ids: list[int])`：获取一系列指定 id 的页面内容。每次调用时，须选择3-10个页面。选择多个角度的页面，同时尽可能选择可信)TPL"
     R"TPL(任的信息来源。考虑到部分页面是无法加载的，你也可以多打开一些可能有用的页面而不用担心内容过多。
`open_url(url: str)`：打开指定的 URL。
)TPL"
     R"TPL(
使用 `【{引用 id}†{引用文本}】` 来引用内容。

操作步骤：1. 使用 `search` 来获得信息列表; 2. 使用 `mclick` 来获取指定)TPL"
     R"TPL( ID 页面的内容; 3. 根据获得的内容进行回复。在回复中应当引用信息来源。
 如果用户提供了 URL，也可以用 `open_url` 直接打开页面。
如果初)TPL"
     R"TPL(次搜索结果没有找到合适的信息，也可以再次使用 `search` 进行搜索。{% elif tool['type'] == 'cogview' %}

## co)TPL"
     R"TPL(gview

如果用户的请求中包含了对图像的描述，你可以使用 `cogview` 来生成图像并展示给用户。你需要向 `cogview` 发送图像描述，规则：
-)TPL"
     R"TPL( 发送给 `cogview` 的消息必须使用英语。用户的中文描述必须完全翻译为英语。
- 应当尽可能详细地描述图像生成的需求，需求描述约 100 英文单词。
-)TPL"
     R"TPL( 保持用户原始描述的意图。不要虚构内容或者没见过的人物。
- 如无特殊说明，所在地为中国，持有中国立场并遵循中国社会主义价值观。{% endif %}{% en)TPL"
     R"TPL(dfor %}{% endif %}{% if item['content'] %}<|{{ item['role'] }}|>{{ item['metadat)TPL"
     R"TPL(a'] }}
{{ item['content'] }}{% endif %}{% endfor %}{% if add_generation_prompt %)TPL"
     R"TPL(}<|assistant|>{% endif %})TPL"},
};

}  // namespace

const char* builtin_chat_template(std::string_view name) {
  for (const Builtin& b : kBuiltins) {
    if (name == b.name) return b.source;
  }
  return nullptr;
}

const char* builtin_chat_template_names() { return "chatml, llama3, gemma, phi3, glm4"; }

}  // namespace autoglm
