#pragma once
/// @file
/// Writing HTTP/1.1 messages: heads, chunked framing, and whole small messages.

#include <cstddef>
#include <string>
#include <string_view>

#include "gantry/http/headers.hpp"
#include "gantry/http/request.hpp"
#include "gantry/http/response.hpp"

namespace gantry::http {

/// Appends the request line, the fields and the empty line to `out`. Framing fields
/// (Content-Length, Transfer-Encoding) are written as they are in `req.fields`.
void serialize_head(const request& req, std::string& out);
/// Appends the status line, the fields and the empty line to `out`. An empty `reason` is
/// written as the standard phrase of the status.
void serialize_head(const response& res, std::string& out);

/// Appends a chunk-size line ("1a2b\r\n") for a chunk of `size` bytes. The chunk's data and
/// then `chunk_terminator` follow it.
void serialize_chunk_size(std::size_t size, std::string& out);
/// Ends the data of a chunk.
inline constexpr std::string_view chunk_terminator = "\r\n";
/// Appends the last chunk, the trailer fields and the final empty line.
void serialize_last_chunk(const headers& trailers, std::string& out);

/// Appends a complete response with a Content-Length body, replacing any framing fields of
/// `res`. For local responses (errors, mocks) whose body is already in memory.
void serialize_response(response res, std::string_view body, std::string& out);

}  // namespace gantry::http
