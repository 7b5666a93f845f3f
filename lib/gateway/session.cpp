// The session over TCP, the gateway's own transport.
#include "session_impl.hpp"

#include "gantry/net/tcp_stream.hpp"

namespace gantry::detail {

template class session<net::tcp_stream>;
template asio::awaitable<void> serve_connection(std::shared_ptr<worker>, net::tcp_stream);

}  // namespace gantry::detail
