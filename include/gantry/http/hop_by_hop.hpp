#pragma once
/// @file
/// Connection-specific ("hop-by-hop") fields that a proxy must not forward.

#include <array>
#include <cstddef>
#include <string_view>

#include "gantry/http/headers.hpp"

namespace gantry::http {

/// True for the fields RFC 9110 7.6.1 and RFC 9112 name as connection-specific:
/// Connection, Keep-Alive, Proxy-Connection, TE, Transfer-Encoding and Upgrade.
bool is_hop_by_hop(std::string_view name) noexcept;

/// True for Proxy-Authorization and Proxy-Authenticate, case-insensitively: credentials and
/// challenges meant for the proxy itself (RFC 9110 11.7), which RFC 2616 13.5.1 listed as
/// hop-by-hop. Not part of `is_hop_by_hop`: a proxy removes them by default, but may be told
/// to pass them on (see `proxy_credentials`).
bool is_proxy_credentials(std::string_view name) noexcept;

/// What a proxy does with Proxy-Authorization (requests) and Proxy-Authenticate (responses)
/// when forwarding: `remove` them, as Gantry does unless a route says otherwise
/// (`route::route::forward_proxy_credentials`), or `keep` them for a next proxy that
/// authenticates the client. A Connection field naming them removes them either way.
enum class proxy_credentials : bool { remove, keep };

/// How many distinct options the Connection fields of one message may name. Real clients
/// name one or two; a bound keeps stripping linear in the size of the head.
inline constexpr std::size_t max_connection_options = 32;

/// The options the Connection fields of one message name (RFC 9110 7.6.1): the fields a
/// proxy removes along with the hop-by-hop ones. It views the fields it was read from, which
/// must not be added to while it is in use (removing fields is fine).
class connection_options {
 public:
  /// `credentials` says whether `removes` is true for Proxy-Authorization and
  /// Proxy-Authenticate when no Connection option names them.
  explicit connection_options(proxy_credentials credentials = proxy_credentials::remove) noexcept
      : keep_proxy_credentials_{credentials == proxy_credentials::keep} {}

  /// Reads every Connection field of `fields`; false when they name more than
  /// `max_connection_options` distinct options, as a message to refuse does.
  [[nodiscard]] bool read(const headers& fields) noexcept;
  /// True when a proxy removes the field `name`: hop-by-hop, proxy credentials unless kept,
  /// or named by an option.
  /// Content-Length and Host never are on an option's say-so: framing and routing are the
  /// proxy's to decide.
  bool removes(std::string_view name) const noexcept;

 private:
  // Only the first `count_` are ever set: nothing is zeroed, as this runs for every
  // forwarded head.
  struct option {
    const char* data;
    std::size_t size;
  };
  std::array<option, max_connection_options> named_;
  std::size_t count_ = 0;
  bool keep_proxy_credentials_;
};

/// Removes the hop-by-hop fields and every field that a Connection field names, as a proxy
/// must before forwarding a message (RFC 9110 7.6.1), and the proxy credentials unless
/// `credentials` keeps them. Content-Length and Host are never removed on a Connection
/// field's say-so: framing and routing are the proxy's to decide.
/// Returns false, removing nothing, when Connection names more than `max_connection_options`
/// options; such a message should be refused.
[[nodiscard]] bool remove_hop_by_hop(headers& fields,
                                     proxy_credentials credentials = proxy_credentials::remove);

}  // namespace gantry::http
