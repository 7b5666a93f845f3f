// Client connections over TLS on TCP.
#include "../net/tls_stream.hpp"
#include "gantry/net/tcp_stream.hpp"
#include "http1_server_impl.hpp"

namespace gantry::detail {

template class http1_server<net::tls_stream<net::tcp_stream>>;
template asio::awaitable<void> serve_connection(std::shared_ptr<worker>,
                                                const listener_binding*,
                                                net::tls_stream<net::tcp_stream>);

}  // namespace gantry::detail
