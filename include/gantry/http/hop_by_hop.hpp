#pragma once
/// @file
/// Connection-specific ("hop-by-hop") fields that a proxy must not forward.

#include <string_view>

#include "gantry/http/headers.hpp"

namespace gantry::http {

/// True for the fields RFC 9110 7.6.1 and RFC 9112 name as connection-specific:
/// Connection, Keep-Alive, Proxy-Connection, TE, Transfer-Encoding and Upgrade.
bool is_hop_by_hop(std::string_view name) noexcept;

/// Removes the hop-by-hop fields and every field that a Connection field names, as a proxy
/// must before forwarding a message (RFC 9110 7.6.1). Framing is the forwarder's to add.
void remove_hop_by_hop(headers& fields);

}  // namespace gantry::http
