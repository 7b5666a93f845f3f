#include "gantry/http/serializer.hpp"

#include <charconv>
#include <cstring>

namespace gantry::http {
namespace {

void append_version(version v, std::string& out) {
  out.append("HTTP/");
  out.push_back(static_cast<char>('0' + v.major));
  out.push_back('.');
  out.push_back(static_cast<char>('0' + v.minor));
}

// Sized once and filled with plain copies: heads are written for every proxied message.
void append_fields(const headers& fields, std::string& out) {
  std::size_t size = 0;
  for (field f : fields) size += f.name.size() + f.value.size() + 4;
  std::size_t at = out.size();
  out.resize(at + size);
  char* p = out.data() + at;
  for (field f : fields) {
    std::memcpy(p, f.name.data(), f.name.size());
    p += f.name.size();
    *p++ = ':';
    *p++ = ' ';
    std::memcpy(p, f.value.data(), f.value.size());
    p += f.value.size();
    *p++ = '\r';
    *p++ = '\n';
  }
}

void append_number(std::uint64_t n, std::string& out, int base = 10) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n, base);
  out.append(digits, end);
}

}  // namespace

void serialize_head(const request& req, std::string& out) {
  out.append(to_string(req.method));
  out.push_back(' ');
  out.append(req.target);
  out.push_back(' ');
  append_version(req.version, out);
  out.append("\r\n");
  append_fields(req.fields, out);
  out.append("\r\n");
}

void serialize_head(const response& res, std::string& out) {
  append_version(res.version, out);
  out.push_back(' ');
  append_number(static_cast<std::uint64_t>(res.status), out);
  out.push_back(' ');
  out.append(res.reason.empty() ? reason_phrase(res.status) : std::string_view{res.reason});
  out.append("\r\n");
  append_fields(res.fields, out);
  out.append("\r\n");
}

void serialize_chunk_size(std::size_t size, std::string& out) {
  append_number(size, out, 16);
  out.append("\r\n");
}

void serialize_last_chunk(const headers& trailers, std::string& out) {
  out.append("0\r\n");
  append_fields(trailers, out);
  out.append("\r\n");
}

void serialize_response(response res, std::string_view body, std::string& out) {
  res.fields.erase("Transfer-Encoding");
  if (is_bodyless(res.status)) {
    res.fields.erase("Content-Length");
    serialize_head(res, out);
    return;
  }
  std::string length;
  append_number(body.size(), length);
  res.fields.set("Content-Length", length);
  serialize_head(res, out);
  out.append(body);
}

}  // namespace gantry::http
