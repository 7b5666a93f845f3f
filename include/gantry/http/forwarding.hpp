#pragma once
/// @file
/// Preparing a parsed message's fields to be forwarded by a proxy.

#include <string>

#include "gantry/http/body_framing.hpp"
#include "gantry/http/headers.hpp"
#include "gantry/http/hop_by_hop.hpp"
#include "gantry/http/parser.hpp"

namespace gantry::http {

/// Removes the hop-by-hop fields and, unless `credentials` keeps them, Proxy-Authorization
/// and Proxy-Authenticate (see `remove_hop_by_hop`), and rebuilds the framing fields
/// from how the body was found to be delimited, never from what the fields said:
/// Content-Length as parsed, or
/// Transfer-Encoding with every coding of every Transfer-Encoding field joined
/// ("gzip, chunked") when the body is chunked. A Connection option or a repeated field thus
/// cannot change how the next hop reads the body. `scratch` is working space.
///
/// Returns false, changing nothing, when the message cannot be forwarded (Connection names
/// more than `max_connection_options` options).
[[nodiscard]] bool prepare_for_forwarding(
    headers& fields, const body_framing& framing, std::string& scratch,
    proxy_credentials credentials = proxy_credentials::remove);

/// The same, with the framing `parsed` found.
[[nodiscard]] inline bool prepare_for_forwarding(
    headers& fields, const parser& parsed, std::string& scratch,
    proxy_credentials credentials = proxy_credentials::remove) {
  return prepare_for_forwarding(fields, parsed.framing(), scratch, credentials);
}

}  // namespace gantry::http
