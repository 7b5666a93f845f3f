// Client connections over TCP, the gateway's own transport. TLS on TCP has a file of its own
// (session_tls.cpp): compiled apart, the plain path's code is inlined as it was before TLS.
#include "gantry/net/tcp_stream.hpp"
#include "http1_server_impl.hpp"

namespace gantry::detail {

template class http1_server<net::tcp_stream>;
template asio::awaitable<void> serve_connection(std::shared_ptr<worker>,
                                                const listener_binding*, net::tcp_stream);

}  // namespace gantry::detail
