#include "gantry/net/address.hpp"

#include <asio/io_context.hpp>
#include <stdexcept>
#include <string>

namespace gantry::net {

std::string_view host_of(std::string_view host_port) noexcept {
  std::string_view host = host_port.substr(0, host_port.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return host;
}

bool host_is_address(std::string_view host_port) noexcept {
  std::error_code not_an_address;
  asio::ip::make_address(host_of(host_port), not_an_address);
  return !not_an_address;
}

std::vector<asio::ip::tcp::endpoint> resolve(std::string_view host_port) {
  auto fail = [&](std::string_view why) {
    return std::invalid_argument("bad address '" + std::string(host_port) +
                                 "': " + std::string(why));
  };
  auto colon = host_port.rfind(':');
  if (colon == std::string_view::npos) throw fail("expected HOST:PORT");
  std::string host{host_of(host_port)};
  std::string port{host_port.substr(colon + 1)};
  // Digit by digit, stopping past 65535: std::stoul would throw std::out_of_range on a port
  // too long for its type, which callers do not expect.
  bool valid_port = !port.empty();
  unsigned long number = 0;
  for (char c : port) {
    if (c < '0' || c > '9') {
      valid_port = false;
      break;
    }
    number = number * 10 + static_cast<unsigned long>(c - '0');
    if (number > 65535) {
      valid_port = false;
      break;
    }
  }
  if (!valid_port) throw fail("the port must be a number from 0 to 65535");
  if (host.empty() || host == "*") host = "0.0.0.0";

  asio::io_context io;
  asio::ip::tcp::resolver resolver{io};
  std::error_code ec;
  auto results = resolver.resolve(host, port, asio::ip::tcp::resolver::numeric_service, ec);
  if (ec) throw fail(ec.message());
  std::vector<asio::ip::tcp::endpoint> endpoints;
  for (const auto& entry : results) endpoints.push_back(entry.endpoint());
  if (endpoints.empty()) throw fail("no address found");
  return endpoints;
}

asio::ip::tcp::endpoint resolve_one(std::string_view host_port) {
  return resolve(host_port).front();
}

}  // namespace gantry::net
