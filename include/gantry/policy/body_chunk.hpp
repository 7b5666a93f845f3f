#pragma once
/// @file
/// One piece of a streamed body, as the body phases see it.

#include <string_view>

namespace gantry::policy {

/// One piece of a request or response body. Bodies stream through the body phases piece by
/// piece as they arrive; nothing buffers a whole body unless a policy chooses to.
///
/// A policy transforms a body by pointing `data` at other bytes: bytes it owns, typically in
/// its per-exchange state, that stay valid until its next call of the same phase or the end of
/// the exchange. Policies after it, and then the gateway, see the replacement. Pointing `data`
/// at an empty view drops the piece.
struct body_chunk {
  /// The bytes of this piece. Valid only during the phase call (see above for replacing them).
  std::string_view data{};
  /// True on the body's last piece, whose `data` may be empty.
  bool end_of_stream = false;
};

}  // namespace gantry::policy
