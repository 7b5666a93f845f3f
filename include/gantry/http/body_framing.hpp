#pragma once
/// @file
/// How a message's body is delimited, as its codec found it.

#include <cstdint>
#include <optional>

namespace gantry::http {

/// How a received message's body is delimited, handed from the codec that parsed it to the
/// one that sends it on, which frames it anew for its own connection.
struct body_framing {
  /// HTTP/1.1 chunked: the length is not known in advance. The message's Transfer-Encoding
  /// fields list the codings, `chunked` last.
  bool chunked = false;
  /// The declared length, when there is one (never with `chunked`).
  std::optional<std::uint64_t> content_length{};
};

}  // namespace gantry::http
