#include "chat_page.h"

namespace autoglm::server {

const char* chat_page_html() {
  return R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Open-AutoGLM chat</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;max-width:46rem;margin:0 auto;padding:1rem;background:#fafafa}
#log{display:flex;flex-direction:column;gap:.5rem;min-height:50vh}
.m{padding:.5rem .75rem;border-radius:.5rem;white-space:pre-wrap;max-width:85%}
.user{align-self:flex-end;background:#d8e8ff}.assistant{align-self:flex-start;background:#fff;border:1px solid #ddd}
form{display:flex;gap:.5rem;margin-top:1rem}textarea{flex:1;height:3.5rem}
#opts{display:flex;gap:1rem;font-size:.85rem;margin-top:.5rem}#opts input{width:5rem}
</style></head><body>
<h3>Open-AutoGLM</h3>
<div id="log"></div>
<form id="f"><textarea id="q" placeholder="Say something (Enter sends, Shift+Enter: new line)"></textarea>
<button id="send">Send</button></form>
<div id="opts"><label>temperature <input id="temp" type="number" step="0.1" value="0.8"></label>
<label>max tokens <input id="max" type="number" value="256"></label>
<label>API key <input id="key" type="password" style="width:10rem"></label>
<button type="button" id="clear">New chat</button></div>
<script>
const log = document.getElementById('log'), q = document.getElementById('q');
let messages = [], session = 'page-' + Math.random().toString(36).slice(2);
function add(role, text) {
  const d = document.createElement('div'); d.className = 'm ' + role; d.textContent = text;
  log.appendChild(d); window.scrollTo(0, document.body.scrollHeight); return d;
}
document.getElementById('clear').onclick = () => {
  messages = []; log.innerHTML = ''; session = 'page-' + Math.random().toString(36).slice(2);
};
q.addEventListener('keydown', e => {
  if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); document.getElementById('f').requestSubmit(); }
});
document.getElementById('f').onsubmit = async e => {
  e.preventDefault();
  const text = q.value.trim(); if (!text) return;
  q.value = ''; messages.push({role: 'user', content: text}); add('user', text);
  const out = add('assistant', ''); let reply = '';
  const headers = {'Content-Type': 'application/json'};
  const key = document.getElementById('key').value; if (key) headers['Authorization'] = 'Bearer ' + key;
  try {
    const r = await fetch('/v1/chat/completions', {method: 'POST', headers, body: JSON.stringify({
      messages, stream: true, session_id: session,
      temperature: +document.getElementById('temp').value, max_tokens: +document.getElementById('max').value})});
    if (!r.ok) { out.textContent = 'error ' + r.status + ': ' + ((await r.json()).error || {}).message; return; }
    const reader = r.body.getReader(), dec = new TextDecoder(); let buf = '';
    for (;;) {
      const {done, value} = await reader.read(); if (done) break;
      buf += dec.decode(value, {stream: true});
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const ev = buf.slice(0, i); buf = buf.slice(i + 2);
        if (!ev.startsWith('data: ') || ev === 'data: [DONE]') continue;
        const j = JSON.parse(ev.slice(6));
        if (j.error) { reply += '\n[error: ' + j.error.message + ']'; continue; }
        for (const c of j.choices || []) if (c.delta && c.delta.content) reply += c.delta.content;
        out.textContent = reply;
      }
    }
    messages.push({role: 'assistant', content: reply});
  } catch (err) { out.textContent = 'error: ' + err; }
};
</script></body></html>
)HTML";
}

}  // namespace autoglm::server
