#include "demo_api.hpp"

#include <fmt/format.h>
#include <array>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/write.hpp>
#include <string>

#include "gantry/core/async.hpp"
#include "gantry/http/error.hpp"
#include "gantry/http/parser.hpp"
#include "gantry/http/serializer.hpp"
#include "gantry/net/listener.hpp"

namespace gantry::demo {
namespace {

using core::use_tuple;

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out.push_back(c);
  }
  return out;
}

// The demo's answer to one request: JSON about what the API saw, which shows the headers
// the gateway adds (X-Forwarded-*, Via).
std::string answer(const http::request& req, std::uint64_t body_bytes, http::status& status) {
  std::string_view path = req.target;
  path = path.substr(0, path.find('?'));
  if (path == "/" || path == "/hello") {
    status = http::status::ok;
    return R"({"message":"Hello from the Gantry demo API","try":["/users/7","/echo","/health"]})"
           "\n";
  }
  if (path == "/health") {
    status = http::status::ok;
    return "{\"status\":\"ok\"}\n";
  }
  if (path.starts_with("/users/")) {
    status = http::status::ok;
    auto id = json_escape(path.substr(7));
    return fmt::format(R"({{"id":"{}","name":"User {}","plan":"free"}})"
                       "\n",
                       id, id);
  }
  if (path == "/echo") {
    status = http::status::ok;
    std::string fields;
    for (auto f : req.fields) {
      if (!fields.empty()) fields.push_back(',');
      fields += fmt::format(R"("{}":"{}")", json_escape(f.name), json_escape(f.value));
    }
    return fmt::format(R"({{"method":"{}","target":"{}","body_bytes":{},"headers":{{{}}}}})"
                       "\n",
                       http::to_string(req.method), json_escape(req.target), body_bytes, fields);
  }
  status = http::status::not_found;
  return "{\"error\":\"no such resource\"}\n";
}

asio::awaitable<void> serve_connection(asio::ip::tcp::socket socket, std::string version) {
  http::parser parser{http::parser_mode::request};
  std::array<char, 16 * 1024> buffer;
  std::string_view pending;
  std::string out;
  std::uint64_t body_bytes = 0;
  for (;;) {
    auto step = parser.parse(pending);
    pending.remove_prefix(step.consumed);
    switch (step.event) {
      case http::parse_event::need_more: {
        auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer), use_tuple);
        if (ec) co_return;
        pending = {buffer.data(), n};
        break;
      }
      case http::parse_event::head:
        body_bytes = 0;
        break;
      case http::parse_event::body:
        body_bytes += parser.body().size();
        break;
      case http::parse_event::message_end: {
        http::status status{};
        std::string body = answer(parser.request(), body_bytes, status);
        http::response res{status};
        res.fields.add("Content-Type", "application/json");
        res.fields.add("Server", "gantry-demo-api");
        res.fields.add("X-Demo-Version", version);
        if (!parser.keep_alive()) res.fields.add("Connection", "close");
        out.clear();
        http::serialize_response(std::move(res), body, out);
        auto [ec, n] = co_await asio::async_write(socket, asio::buffer(out), use_tuple);
        if (ec || !parser.keep_alive()) co_return;
        break;
      }
      case http::parse_event::error: {
        out.clear();
        http::response res{http::status_for(static_cast<http::errc>(parser.error().value()))};
        res.fields.add("Connection", "close");
        http::serialize_response(std::move(res), "", out);
        co_await asio::async_write(socket, asio::buffer(out), use_tuple);
        co_return;
      }
      case http::parse_event::upgrade:
        co_return;
    }
  }
}

asio::awaitable<void> accept_loop(asio::ip::tcp::acceptor acceptor, std::string version) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec) co_return;
    asio::co_spawn(acceptor.get_executor(), serve_connection(std::move(socket), version),
                   asio::detached);
  }
}

}  // namespace

asio::ip::tcp::endpoint serve_demo_api(asio::io_context& io, const asio::ip::tcp::endpoint& address,
                                       std::string version) {
  auto acceptor = net::make_listener(io.get_executor(), address, {.reuse_port = false});
  auto bound = acceptor.local_endpoint();
  asio::co_spawn(io, accept_loop(std::move(acceptor), std::move(version)), asio::detached);
  return bound;
}

}  // namespace gantry::demo
