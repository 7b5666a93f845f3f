// The trailers phases on a running gateway: trailers a client sends, edited on their way to
// the upstream; the upstream's, edited on their way back; and a local answer's own.
#include <doctest/doctest.h>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>
#include <string>
#include <string_view>
#include <thread>

#include "gantry/gateway/gateway.hpp"
#include "gantry/http/parser.hpp"
#include "gantry/policy/chain.hpp"
#include "raw_exchange.hpp"

namespace {

using gantry::policy::exchange;
using gantry::policy::verdict;

// Accepts one connection on a thread of its own, reads one request whole (keeping its
// trailers), and answers with a chunked body that ends with trailers.
class trailing_upstream {
 public:
  trailing_upstream() {
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    thread_ = std::thread{[this] { serve(); }};
  }
  ~trailing_upstream() {
    if (thread_.joinable()) thread_.join();
  }
  trailing_upstream(const trailing_upstream&) = delete;
  trailing_upstream& operator=(const trailing_upstream&) = delete;

  std::string address() const {
    return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  // What the request carried, once the upstream answered (call after the client is done).
  const gantry::http::headers& trailers() {
    if (thread_.joinable()) thread_.join();
    return trailers_;
  }
  const std::string& body() {
    if (thread_.joinable()) thread_.join();
    return body_;
  }

 private:
  void serve() {
    std::error_code ec;
    asio::ip::tcp::socket socket{io_};
    acceptor_.accept(socket, ec);
    if (ec) return;
    gantry::http::parser parser{gantry::http::parser_mode::request};
    char buffer[4096];
    std::string_view pending;
    for (bool done = false; !done;) {
      const auto step = parser.parse(pending);
      pending.remove_prefix(step.consumed);
      switch (step.event) {
        case gantry::http::parse_event::need_more: {
          const std::size_t n = socket.read_some(asio::buffer(buffer), ec);
          if (ec) return;
          pending = {buffer, n};
          break;
        }
        case gantry::http::parse_event::body:
          body_.append(parser.body());
          break;
        case gantry::http::parse_event::message_end:
          trailers_ = parser.trailers();
          done = true;
          break;
        case gantry::http::parse_event::error:
          return;
        default:
          break;
      }
    }
    constexpr std::string_view answer =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        "2\r\nok\r\n0\r\nX-Up: u\r\nX-Drop: d\r\n\r\n";
    asio::write(socket, asio::buffer(answer), ec);
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_{io_, asio::ip::tcp::v4()};
  gantry::http::headers trailers_;
  std::string body_;
  std::thread thread_;
};

// Edits trailers both ways, and tries to inject a field through a trailer value.
struct trailer_editor {
  verdict on_request_trailers(exchange& ex) const {
    ex.request_trailers.add("X-Gateway", "1");
    return verdict::continue_;
  }
  verdict on_response_trailers(exchange& ex) const {
    ex.response_trailers.set("X-Up", "edited");
    ex.response_trailers.erase("X-Drop");
    ex.response_trailers.add("X-Injected", "a\r\nEvil: 1");
    return verdict::continue_;
  }
};

// Answers locally, with a body and trailers.
struct local_with_trailers {
  verdict on_request_head(exchange& ex) const {
    ex.respond(gantry::http::status::ok, "local", "text/plain");
    ex.response_trailers.add("X-Checksum", "42");
    return verdict::respond;
  }
};

using gantry::test::exchange_raw;

bool has(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("trailers: the phases see and edit them both ways; what cannot be written is dropped") {
  bool chunked_request = true;
  SUBCASE("a chunked request with trailers") { chunked_request = true; }
  SUBCASE("a request with a length: it goes chunked to carry the new trailer") {
    chunked_request = false;
  }
  CAPTURE(chunked_request);
  trailing_upstream upstream;
  gantry::gateway gw{gantry::gateway_options{.workers = 1}};
  gw.cluster("backend", {upstream.address()});
  gw.policy("trailers", gantry::policy::chain{}.add(trailer_editor{}));
  gw.use("trailers");
  const auto bound = gw.listen("127.0.0.1:0");
  gw.start();
  const std::string request =
      chunked_request ? "POST /t HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Client: c\r\n\r\n"
                      : "POST /t HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                        "Content-Length: 5\r\n\r\nhello";
  const std::string received = exchange_raw(bound, request);
  gw.stop();
  gw.wait();

  CHECK(upstream.body() == "hello");
  const gantry::http::headers& up = upstream.trailers();
  CHECK(up.get("X-Gateway") == "1");
  if (chunked_request) CHECK(up.get("X-Client") == "c");

  INFO(received);
  CHECK(received.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(has(received, "Transfer-Encoding: chunked\r\n"));
  CHECK(has(received, "\r\n\r\n2\r\nok\r\n0\r\n"));
  CHECK(has(received, "X-Up: edited\r\n"));
  CHECK_FALSE(has(received, "X-Drop"));
  CHECK_FALSE(has(received, "X-Injected"));  // a CR LF in its value: dropped, not sent
  CHECK_FALSE(has(received, "Evil"));
  CHECK(received.ends_with("\r\n\r\n"));
}

TEST_CASE("trailers: a local answer carries its own, chunked to HTTP/1.1 and not to HTTP/1.0") {
  gantry::gateway gw{gantry::gateway_options{.workers = 1}};
  gw.cluster("backend", {"127.0.0.1:9"});
  gw.policy("local", gantry::policy::chain{}.add(local_with_trailers{}));
  gw.use("local");
  const auto bound = gw.listen("127.0.0.1:0");
  gw.start();
  const std::string http11 =
      exchange_raw(bound, "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  const std::string http10 = exchange_raw(bound, "GET / HTTP/1.0\r\n\r\n");
  gw.stop();
  gw.wait();

  INFO(http11);
  CHECK(http11.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(has(http11, "Transfer-Encoding: chunked\r\n"));
  CHECK_FALSE(has(http11, "Content-Length"));
  CHECK(http11.ends_with("\r\n\r\n5\r\nlocal\r\n0\r\nX-Checksum: 42\r\n\r\n"));

  INFO(http10);
  CHECK(has(http10, "Content-Length: 5\r\n"));
  CHECK(http10.ends_with("\r\n\r\nlocal"));
  CHECK_FALSE(has(http10, "X-Checksum"));
}
