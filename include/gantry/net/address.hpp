#pragma once
/// @file
/// Turning "host:port" text into socket endpoints, for configuration and command lines.

#include <asio/ip/tcp.hpp>
#include <string_view>
#include <vector>

namespace gantry::net {

/// Resolves "host:port", "[v6]:port" or ":port" (all interfaces) to the endpoints it names.
/// Blocking: meant for start-up and configuration, not the request path.
/// Throws `std::invalid_argument` naming the text when it is malformed or does not resolve.
std::vector<asio::ip::tcp::endpoint> resolve(std::string_view host_port);

/// The host of "host:port" or "[v6]:port", without the port or the brackets: "::1" of
/// "[::1]:443". Text without a colon is all host.
std::string_view host_of(std::string_view host_port) noexcept;

/// Whether the host of "host:port" is an IP address rather than a name: such an endpoint
/// names no certificate to verify and sends no SNI.
bool host_is_address(std::string_view host_port) noexcept;

/// Like `resolve`, but keeps only the first endpoint.
asio::ip::tcp::endpoint resolve_one(std::string_view host_port);

}  // namespace gantry::net
