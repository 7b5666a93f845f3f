#include "gantry/http/serializer.hpp"

#include <cstring>

#include "gantry/core/number_text.hpp"

namespace gantry::http {
namespace {

// Heads are written for every proxied message: each is sized once, then filled with plain
// copies, rather than grown piece by piece.

// Makes room for `n` more bytes at the end of `out`; returns where they start.
char* grow(std::string& out, std::size_t n) {
  const std::size_t at = out.size();
  out.resize(at + n);
  return out.data() + at;
}

char* put(char* p, std::string_view s) noexcept {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// "HTTP/1.1"
char* put_version(char* p, version v) noexcept {
  p = put(p, "HTTP/");
  *p++ = static_cast<char>('0' + v.major);
  *p++ = '.';
  *p++ = static_cast<char>('0' + v.minor);
  return p;
}
constexpr std::size_t version_size = 8;

std::size_t fields_size(const headers& fields) noexcept {
  std::size_t size = 0;
  for (field f : fields) size += f.name.size() + f.value.size() + 4;
  return size;
}

// Each field, then the empty line.
char* put_fields(char* p, const headers& fields) noexcept {
  for (field f : fields) {
    p = put(p, f.name);
    *p++ = ':';
    *p++ = ' ';
    p = put(p, f.value);
    *p++ = '\r';
    *p++ = '\n';
  }
  return put(p, "\r\n");
}

void append_fields(const headers& fields, std::string& out) {
  put_fields(grow(out, fields_size(fields) + 2), fields);
}

}  // namespace

void serialize_head(const request& req, std::string& out) {
  const std::string_view method = to_string(req.method);
  char* p =
      grow(out, method.size() + req.target.size() + version_size + 4 + fields_size(req.fields) + 2);
  p = put(p, method);
  *p++ = ' ';
  p = put(p, req.target);
  *p++ = ' ';
  p = put_version(p, req.version);
  p = put(p, "\r\n");
  put_fields(p, req.fields);
}

void serialize_head(const response& res, std::string& out) {
  core::number_digits digits;
  const std::string_view status = core::number_text(static_cast<unsigned>(res.status), digits);
  const std::string_view reason =
      res.reason.empty() ? reason_phrase(res.status) : std::string_view{res.reason};
  char* p =
      grow(out, version_size + status.size() + reason.size() + 4 + fields_size(res.fields) + 2);
  p = put_version(p, res.version);
  *p++ = ' ';
  p = put(p, status);
  *p++ = ' ';
  p = put(p, reason);
  p = put(p, "\r\n");
  put_fields(p, res.fields);
}

void serialize_chunk_size(std::size_t size, std::string& out) {
  core::number_digits digits;
  out.append(core::number_text(size, digits, 16));
  out.append("\r\n");
}

void serialize_last_chunk(const headers& trailers, std::string& out) {
  out.append("0\r\n");
  append_fields(trailers, out);
}

void serialize_response(response res, std::string_view body, std::string& out) {
  res.fields.erase("Transfer-Encoding");
  if (is_bodyless(res.status)) {
    res.fields.erase("Content-Length");
    serialize_head(res, out);
    return;
  }
  core::number_digits digits;
  res.fields.set("Content-Length", core::number_text(body.size(), digits));
  serialize_head(res, out);
  out.append(body);
}

}  // namespace gantry::http
