#pragma once
// Escaping of untrusted bytes for the text formats the observability policies write: JSON
// strings (access log) and Prometheus label values (metrics). Both keep valid UTF-8 as it is.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace gantry::policy::detail {

// The length of the well-formed UTF-8 sequence (RFC 3629: no overlongs, no surrogates, nothing
// above U+10FFFF) that starts `s` at `i`, or 0 when the byte at `i` does not start one.
// `s[i]` must be at least 0x80.
inline std::size_t utf8_sequence_at(std::string_view s, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const auto is_tail = [&](std::size_t k) { return k < s.size() && (byte(k) & 0xc0) == 0x80; };
  const unsigned char b = byte(i);
  if (b >= 0xc2 && b <= 0xdf) return is_tail(i + 1) ? 2 : 0;
  if (b >= 0xe0 && b <= 0xef) {
    if (!is_tail(i + 1) || !is_tail(i + 2)) return 0;
    const unsigned char b1 = byte(i + 1);
    if (b == 0xe0 && b1 < 0xa0) return 0;  // overlong
    if (b == 0xed && b1 > 0x9f) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (b >= 0xf0 && b <= 0xf4) {
    if (!is_tail(i + 1) || !is_tail(i + 2) || !is_tail(i + 3)) return 0;
    const unsigned char b1 = byte(i + 1);
    if (b == 0xf0 && b1 < 0x90) return 0;  // overlong
    if (b == 0xf4 && b1 > 0x8f) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

// Appends `s` as a JSON string, quotes included. Control bytes and DEL become \u00XX (\n,
// \r, \t, \b, \f their short forms), '"' and '\\' are escaped, and a byte that is not part
// of well-formed UTF-8 becomes \u00XX with its value, so the line is valid JSON whatever the
// input. (Valid UTF-8 is copied as is, so an escaped \u0080 to \u00ff always means such a
// byte.)
inline void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  // The bytes copied as they are without a second look: printable ASCII but '"' and '\\'.
  static constexpr auto plain = [] {
    std::array<bool, 256> table{};
    for (int c = 0x20; c < 0x7f; ++c) table[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
    return table;
  }();
  out.push_back('"');
  std::size_t run = 0;  // start of the bytes not yet copied, all safe
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (plain[c]) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (std::size_t n = utf8_sequence_at(s, i)) {
        i += n;
        continue;
      }
    }
    out.append(s.data() + run, i - run);
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default: {
        const char escaped[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
        out.append(escaped, sizeof escaped);
      }
    }
    run = ++i;
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

// Appends `s` as the inside of a Prometheus label value (text exposition format 0.0.4):
// '\\', '"' and LF escaped, and each byte that is not part of well-formed UTF-8 replaced by
// U+FFFD, since the format is UTF-8.
inline void append_label_value(std::string& out, std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == '\\')
        out.append("\\\\");
      else if (c == '"')
        out.append("\\\"");
      else if (c == '\n')
        out.append("\\n");
      else
        out.push_back(static_cast<char>(c));
      ++i;
    } else if (std::size_t n = utf8_sequence_at(s, i)) {
      out.append(s.data() + i, n);
      i += n;
    } else {
      out.append("\xef\xbf\xbd");
      ++i;
    }
  }
}

}  // namespace gantry::policy::detail
