// Client connections over the test kit's in-memory stream: the same exchange flow the
// gateway runs on TCP, for tests without sockets.
#include "../gateway/http1_server_impl.hpp"
#include "gantry/testing/memory_stream.hpp"

namespace gantry::detail {

template class http1_server<testing::memory_stream>;
template asio::awaitable<void> serve_connection(std::shared_ptr<worker>,
                                                const listener_binding*, testing::memory_stream);

void worker::serve(testing::memory_stream client) { admit(std::move(client)); }

}  // namespace gantry::detail
