#include "gantry/net/listener.hpp"

#include <asio/socket_base.hpp>
#include <string>
#include <system_error>

#include "gantry/net/reuse_port.hpp"

namespace gantry::net {

asio::ip::tcp::acceptor make_listener(asio::any_io_executor executor,
                                      const asio::ip::tcp::endpoint& address,
                                      listener_options options) {
  asio::ip::tcp::acceptor acceptor{executor};
  std::error_code ec;
  auto check = [&](const char* step) {
    if (ec)
      throw std::system_error(ec, std::string(step) + " " + address.address().to_string() + ":" +
                                      std::to_string(address.port()));
  };
  acceptor.open(address.protocol(), ec);
  check("cannot open a socket for");
  acceptor.set_option(asio::socket_base::reuse_address{true}, ec);
  check("cannot set SO_REUSEADDR on");
  if (options.reuse_port) {
    acceptor.set_option(reuse_port{true}, ec);
    check("cannot set SO_REUSEPORT on");
  }
  acceptor.bind(address, ec);
  check("cannot bind");
  acceptor.listen(options.backlog, ec);
  check("cannot listen on");
  return acceptor;
}

}  // namespace gantry::net
