#pragma once
// Small helpers the integration tests share.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>

#include "support/deadline.hpp"
#include "support/gantryd.hpp"
#include "support/stub_upstream.hpp"
#include "support/tcp_client.hpp"

namespace gantry::testing {

using namespace std::chrono_literals;

/// Sends one request on a fresh connection and reads one response.
inline response_result fetch(std::uint16_t port, const std::string& request,
                             read_options options = {}, clock::duration limit = 10s) {
  auto d = after(limit);
  tcp_client client{port, d};
  if (!client.send(request, d)) {
    response_result failed;
    failed.closed = true;
    return failed;
  }
  return client.read_response(d, options);
}

/// `fetch` of "GET target".
inline response_result get(std::uint16_t port, std::string_view target) {
  return fetch(port, make_request("GET", target));
}

/// MiB, for messages.
inline double mib(std::uint64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

}  // namespace gantry::testing

namespace gantry::testing {

/// Polls `progress()` (a byte count another party advances) until it has not moved for
/// `quiet`, and returns its value then; gives up at `d`. For backpressure tests: a peer that
/// stops reading must eventually stop the writer on the far side of the proxy.
template <class Progress>
std::uint64_t wait_until_stalled(Progress progress, clock::duration quiet, deadline d) {
  std::uint64_t last = progress();
  auto last_change = clock::now();
  while (clock::now() < d) {
    std::this_thread::sleep_for(20ms);
    auto now = progress();
    if (now != last) {
      last = now;
      last_change = clock::now();
    } else if (clock::now() - last_change >= quiet) {
      break;
    }
  }
  return last;
}

}  // namespace gantry::testing
