#pragma once
/// @file
/// Connection-specific ("hop-by-hop") fields that a proxy must not forward.

#include <cstddef>
#include <string_view>

#include "gantry/http/headers.hpp"

namespace gantry::http {

/// True for the fields RFC 9110 7.6.1 and RFC 9112 name as connection-specific:
/// Connection, Keep-Alive, Proxy-Connection, TE, Transfer-Encoding and Upgrade.
bool is_hop_by_hop(std::string_view name) noexcept;

/// How many distinct options the Connection fields of one message may name. Real clients
/// name one or two; a bound keeps stripping linear in the size of the head.
inline constexpr std::size_t max_connection_options = 32;

/// Removes the hop-by-hop fields and every field that a Connection field names, as a proxy
/// must before forwarding a message (RFC 9110 7.6.1). Content-Length and Host are never
/// removed on a Connection field's say-so: framing and routing are the proxy's to decide.
/// Returns false, removing nothing, when Connection names more than `max_connection_options`
/// options; such a message should be refused.
[[nodiscard]] bool remove_hop_by_hop(headers& fields);

}  // namespace gantry::http
