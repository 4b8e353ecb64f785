// Python str semantics over UTF-8 for the chat-template built-ins: code-point indexing, Unicode
// case mapping (utf8proc), str.isspace()-style whitespace, strip and split.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace autoglm::tmpl::text {

// Byte offset of every character plus s.size() at the end (an invalid byte counts as one character).
std::vector<size_t> char_offsets(std::string_view s);
size_t char_count(std::string_view s);

std::string upper(std::string_view s);
std::string lower(std::string_view s);
std::string title(std::string_view s);       // str.title()
std::string capitalize(std::string_view s);  // str.capitalize()

// str.strip/lstrip/rstrip: Unicode whitespace when chars is null, else any character of *chars.
std::string strip(std::string_view s, const std::string* chars, bool left, bool right);
// str.split(): on whitespace runs when sep is null; maxsplit < 0 means no limit.
std::vector<std::string> split(std::string_view s, const std::string* sep, long long maxsplit);
// str.replace(old, new, count); count < 0 means all.
std::string replace(std::string_view s, std::string_view from, std::string_view to, long long count);

}  // namespace autoglm::tmpl::text
