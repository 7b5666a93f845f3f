#include "support/tcp_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <stdexcept>

#include "gantry/core/ascii.hpp"
#include "gantry/http/serializer.hpp"

namespace gantry::testing {
namespace {

std::error_code errno_code(int e) { return {e, std::generic_category()}; }

std::error_code timed_out() { return std::make_error_code(std::errc::timed_out); }

}  // namespace

std::string response_result::header(std::string_view name) const {
  auto v = head.fields.get(name);
  return v ? std::string{*v} : std::string{};
}

std::string response_result::header_list(std::string_view name) const {
  std::string joined;
  for (auto f : head.fields) {
    if (!core::iequals(f.name, name)) continue;
    if (!joined.empty()) joined += ", ";
    joined += f.value;
  }
  return joined;
}

std::string response_result::summary() const {
  char line[512];
  std::snprintf(line, sizeof line,
                "status=%d head=%d complete=%d closed=%d reset=%d timed_out=%d parse_error='%s' "
                "body_size=%llu interim=%zu",
                status(), head_received, complete, closed, reset, timed_out,
                parse_error.message().c_str(), static_cast<unsigned long long>(body_size),
                interim.size());
  return line;
}

tcp_client::tcp_client(std::uint16_t port, deadline d) {
  auto ec = try_connect(port, d, *this);
  if (ec)
    throw std::runtime_error{"connect 127.0.0.1:" + std::to_string(port) + ": " + ec.message()};
}

tcp_client::~tcp_client() { close(); }

tcp_client::tcp_client(tcp_client&& other) noexcept { *this = std::move(other); }

tcp_client& tcp_client::operator=(tcp_client&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = other.fd_;
    other.fd_ = -1;
    error_ = other.error_;
    sent_ = other.sent_;
    peer_closed_ = other.peer_closed_;
    peer_reset_ = other.peer_reset_;
    buffer_ = std::move(other.buffer_);
    parser_ = std::move(other.parser_);
    other.parser_ = http::parser{http::parser_mode::response};
  }
  return *this;
}

std::error_code tcp_client::try_connect(std::uint16_t port, deadline d, tcp_client& out) {
  out.close();
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return errno_code(errno);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    if (errno != EINPROGRESS) {
      int e = errno;
      ::close(fd);
      return errno_code(e);
    }
    pollfd p{fd, POLLOUT, 0};
    int n = ::poll(&p, 1, remaining_ms(d));
    if (n <= 0) {
      ::close(fd);
      return timed_out();
    }
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) {
      ::close(fd);
      return errno_code(error);
    }
  }
  out.fd_ = fd;
  out.error_ = {};
  out.sent_ = 0;
  out.peer_closed_ = false;
  out.peer_reset_ = false;
  out.buffer_.clear();
  out.parser_ = http::parser{http::parser_mode::response};
  return {};
}

bool tcp_client::send(std::string_view bytes, deadline d) {
  if (fd_ < 0) {
    error_ = std::make_error_code(std::errc::not_connected);
    return false;
  }
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      sent_ += static_cast<std::uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      int r = ::poll(&p, 1, remaining_ms(d));
      if (r == 0) {
        error_ = timed_out();
        return false;
      }
      continue;
    }
    error_ = errno_code(errno);
    return false;
  }
  return true;
}

bool tcp_client::send_pattern(std::uint64_t size, deadline d, std::uint64_t offset) {
  std::uint64_t done = 0;
  while (done < size) {
    auto slice = pattern_slice(
        offset + done, static_cast<std::size_t>(std::min<std::uint64_t>(size - done, 1 << 20)));
    if (!send(slice, d)) return false;
    done += slice.size();
  }
  return true;
}

bool tcp_client::send_pattern_chunked(std::uint64_t size, std::size_t chunk_size, deadline d) {
  std::uint64_t done = 0;
  std::string line;
  while (done < size) {
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(size - done, chunk_size));
    line.clear();
    http::serialize_chunk_size(n, line);
    if (!send(line, d) || !send_pattern(n, d, done) || !send(http::chunk_terminator, d))
      return false;
    done += n;
  }
  return true;
}

tcp_client::recv_status tcp_client::receive(deadline d, std::size_t max) {
  if (peer_closed_) return recv_status::closed;
  for (;;) {
    auto old = buffer_.size();
    buffer_.resize(old + max);
    ssize_t n = ::recv(fd_, buffer_.data() + old, max, 0);
    buffer_.resize(old + (n > 0 ? static_cast<std::size_t>(n) : 0));
    if (n > 0) return recv_status::data;
    if (n == 0) {
      peer_closed_ = true;
      return recv_status::closed;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, remaining_ms(d));
      if (r == 0) return recv_status::timed_out;
      continue;
    }
    error_ = errno_code(errno);
    peer_closed_ = true;
    peer_reset_ = errno == ECONNRESET;
    return recv_status::closed;
  }
}

response_result tcp_client::read_response(deadline d, const read_options& options) {
  response_result result;
  resume_response(result, d, options);
  return result;
}

void tcp_client::resume_response(response_result& result, deadline d, const read_options& options) {
  if (fd_ < 0) {
    result.closed = true;
    return;
  }
  if (!parser_.in_message()) parser_.expect_head_response(options.head_request);
  std::size_t used = 0;  // bytes of buffer_ consumed by the parser
  auto take_body = [&](std::string_view piece) {
    result.body_size += piece.size();
    result.pattern.feed(piece);
    if (result.body.size() < options.body_limit)
      result.body.append(piece.substr(0, options.body_limit - result.body.size()));
  };
  auto end_of_message = [&]() -> bool {  // true when the call should return
    if (result.status() < 200) {
      result.interim.push_back(parser_.response());
      result.head_received = false;
      if (!options.stop_at_interim) {
        parser_.expect_head_response(options.head_request);
        return false;
      }
      result.head = result.interim.back();
      result.interim.pop_back();
      result.head_received = true;
    }
    result.complete = true;
    result.keep_alive = parser_.keep_alive();
    result.trailers = parser_.trailers();
    return true;
  };
  for (;;) {
    // Parse everything buffered, one event at a time, until the parser needs more.
    for (;;) {
      std::string_view input{buffer_.data() + used, buffer_.size() - used};
      auto r = parser_.parse(input);
      used += r.consumed;
      bool done = false;
      switch (r.event) {
        case http::parse_event::need_more:
          break;
        case http::parse_event::head:
          result.head_received = true;
          result.head = parser_.response();
          result.chunked = parser_.chunked();
          result.content_length = parser_.content_length();
          continue;
        case http::parse_event::body:
          take_body(parser_.body());
          if (result.body_size < options.stop_after) continue;
          done = true;
          break;
        case http::parse_event::message_end:
          done = end_of_message();
          if (!done) continue;
          break;
        case http::parse_event::upgrade:
          result.complete = true;
          done = true;
          break;
        case http::parse_event::error:
          result.parse_error = parser_.error();
          done = true;
          break;
      }
      if (done) {
        buffer_.erase(0, used);
        return;
      }
      break;  // need_more
    }
    buffer_.erase(0, used);
    used = 0;
    switch (receive(d)) {
      case recv_status::data:
        break;
      case recv_status::timed_out:
        result.timed_out = true;
        return;
      case recv_status::closed: {
        result.closed = true;
        result.reset = peer_reset_;
        for (;;) {
          auto r = parser_.finish();
          if (r.event == http::parse_event::message_end) {
            if (end_of_message()) return;
            continue;
          }
          if (r.event == http::parse_event::error) result.parse_error = parser_.error();
          return;
        }
      }
    }
  }
}

bool tcp_client::wait_for_close(deadline d, std::string* received) {
  if (fd_ < 0) return true;
  for (;;) {
    auto status = receive(d);
    if (received) received->append(buffer_);
    buffer_.clear();
    if (status == recv_status::closed) return true;
    if (status == recv_status::timed_out) return false;
  }
}

std::string tcp_client::read_until_close(deadline d) {
  std::string received;
  wait_for_close(d, &received);
  return received;
}

std::string tcp_client::read_some(deadline d, std::size_t max) {
  if (buffer_.empty() && fd_ >= 0) receive(d, max);
  std::string out = std::move(buffer_);
  buffer_.clear();
  return out;
}

void tcp_client::shutdown_send() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

void tcp_client::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void tcp_client::abort() {
  if (fd_ < 0) return;
  linger l{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close();
}

std::string make_request(std::string_view method, std::string_view target,
                         const std::vector<std::string>& header_lines, std::string_view body) {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: test\r\n");
  for (const auto& line : header_lines) out.append(line).append("\r\n");
  if (!body.empty()) out.append("Content-Length: ").append(std::to_string(body.size()));
  if (!body.empty()) out.append("\r\n");
  out.append("\r\n").append(body);
  return out;
}

std::string make_chunked(const std::vector<std::string>& pieces,
                         const std::vector<std::string>& trailer_lines) {
  std::string out;
  for (const auto& piece : pieces) {
    http::serialize_chunk_size(piece.size(), out);
    out.append(piece).append(http::chunk_terminator);
  }
  out.append("0\r\n");
  for (const auto& line : trailer_lines) out.append(line).append("\r\n");
  out.append("\r\n");
  return out;
}

}  // namespace gantry::testing
