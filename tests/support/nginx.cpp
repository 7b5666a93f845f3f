#include "support/nginx.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>
#include <stdexcept>

#include "support/tcp_client.hpp"

namespace gantry::testing {
namespace {

// Field names and the NGINX variables they log, in log order.
const std::vector<std::pair<std::string, std::string>>& log_fields() {
  static const std::vector<std::pair<std::string, std::string>> fields{
      {"connection", "$connection"},
      {"requests", "$connection_requests"},
      {"ssl_reused", "$ssl_session_reused"},
      {"method", "$request_method"},
      {"uri", "$request_uri"},
      {"status", "$status"},
      {"xff", "$http_x_forwarded_for"},
      {"xfp", "$http_x_forwarded_proto"},
      {"xfh", "$http_x_forwarded_host"},
      {"via", "$http_via"},
      {"connection_header", "$http_connection"},
      {"te", "$http_te"},
      {"upgrade", "$http_upgrade"},
      {"keep_alive", "$http_keep_alive"},
      {"proxy_connection", "$http_proxy_connection"},
      {"x_hop", "$http_x_hop"},
      {"transfer_encoding", "$http_transfer_encoding"},
      {"content_length", "$content_length"},
      {"request_length", "$request_length"},
      {"expect", "$http_expect"},
      {"host", "$host"},
      {"body_bytes_sent", "$body_bytes_sent"},
  };
  return fields;
}

// A port nothing listens on right now: bind port 0, read it back, close. Another process may
// take it before NGINX binds it; the caller retries on that.
std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error{std::string{"socket: "} + std::strerror(errno)};
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    int e = errno;
    ::close(fd);
    throw std::runtime_error{std::string{"bind: "} + std::strerror(e)};
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

std::string nginx_binary() {
  // Not $NGINX: NGINX reads that variable as a list of inherited sockets.
  const char* env = std::getenv("GANTRY_TEST_NGINX");
  if (env && *env) return env;
  return "/usr/sbin/nginx";
}

}  // namespace

nginx_server::nginx_server(nginx_options options) {
  const auto& d = dir_.path();
  std::string log_format;
  for (const auto& [name, variable] : log_fields()) {
    if (!log_format.empty()) log_format += "\\t";
    log_format += name + "=" + variable;
  }
  std::string echo_body;
  for (const auto& [name, variable] : log_fields()) echo_body += name + "=" + variable + "\\n";

  if (options.big_file_size > 0) dir_.sparse_file("www/static/big.bin", options.big_file_size);
  dir_.write("www/static/small.txt", "small static file\n");

  // NGINX cannot take a listening socket in single-process mode (it dies when given one
  // through $NGINX), so it binds a port we found free, and we retry if someone took it.
  for (int attempt = 0;; ++attempt) {
    port_ = free_port();
    std::ostringstream conf;
    conf << "daemon off;\n"
         << "master_process off;\n"
         << "worker_processes 1;\n"
         << "error_log " << (d / "error.log").string() << " notice;\n"
         << "pid " << (d / "nginx.pid").string() << ";\n"
         << "events { worker_connections 1024; }\n"
         << "http {\n"
         << "  client_body_temp_path " << (d / "client_body").string() << ";\n"
         << "  proxy_temp_path " << (d / "proxy").string() << ";\n"
         << "  fastcgi_temp_path " << (d / "fastcgi").string() << ";\n"
         << "  uwsgi_temp_path " << (d / "uwsgi").string() << ";\n"
         << "  scgi_temp_path " << (d / "scgi").string() << ";\n"
         << "  log_format gantry \"" << log_format << "\";\n"
         << "  access_log " << (d / "access.log").string() << " gantry;\n"
         << "  default_type application/octet-stream;\n"
         << "  sendfile on;\n"
         << "  keepalive_timeout 60s;\n"
         << "  keepalive_requests 1000;\n"
         << "  client_max_body_size 0;\n"
         << "  server {\n"
         << "    listen 127.0.0.1:" << port_ << ";\n"
         << "    server_name test;\n"
         << "    location = /health { access_log off; return 200 \"ok\\n\"; }\n"
         << "    location = /hello { return 200 \"hello from nginx\\n\"; }\n"
         << "    location = /empty { return 204; }\n"
         << "    location = /echo { add_header X-Nginx-Connection $connection; return 200 \""
         << echo_body << "\"; }\n"
         << "    location /few/ { keepalive_requests 3; return 200 \"few\\n\"; }\n"
         << "    location = /upload { return 200 \"uploaded\\n\"; }\n"
         << "    location /static/ { root " << (d / "www").string() << "; }\n"
         << "    location /dav/ { root " << (d / "www").string()
         << "; dav_methods PUT DELETE; create_full_put_path on; }\n"
         << "    location /gz/ { root " << (d / "www").string()
         << "; gzip on; gzip_min_length 0; gzip_types *; gzip_http_version 1.0; "
         << "gzip_proxied any; }\n"
         << options.extra_server << "\n"
         << "  }\n"
         << "}\n";
    auto conf_path = dir_.write("nginx.conf", conf.str());

    spawn_options spawn;
    spawn.argv = {nginx_binary(),     "-p", d.string() + "/",          "-c",
                  conf_path.string(), "-e", (d / "error.log").string()};
    process_ = std::make_unique<child_process>(spawn);

    // NGINX says nothing when it is ready: wait until it accepts a connection or dies.
    auto ready = after(std::chrono::seconds{10});
    tcp_client probe;
    bool listening = eventually(
        [&] { return !tcp_client::try_connect(port_, ready, probe) || !process_->running(); },
        ready);
    if (listening && process_->running()) {
      probe.send(make_request("GET", "/health"), ready);
      auto response = probe.read_response(ready);
      if (response.status() == 200) return;
      process_->kill();
      throw std::runtime_error{"nginx does not answer: " + response.summary() + "\n" + error_log()};
    }
    process_->kill();
    bool port_taken = error_log().find("Address already in use") != std::string::npos;
    if (!port_taken || attempt == 5)
      throw std::runtime_error{"nginx did not start:\n" + process_->stderr_text() + error_log()};
    std::filesystem::remove(d / "error.log");
  }
}

nginx_server::~nginx_server() {
  if (process_ && process_->send_signal(SIGTERM)) {
    if (!process_->wait(after(std::chrono::seconds{5}))) process_->kill();
  }
}

std::string nginx_server::address() const { return "127.0.0.1:" + std::to_string(port_); }

std::vector<access_entry> nginx_server::access_log() const {
  std::vector<access_entry> entries;
  std::istringstream in{read_file(dir_ / "access.log")};
  std::string line;
  while (std::getline(in, line)) {
    access_entry entry;
    std::size_t start = 0;
    while (start <= line.size()) {
      auto end = line.find('\t', start);
      if (end == std::string::npos) end = line.size();
      auto item = line.substr(start, end - start);
      auto eq = item.find('=');
      if (eq != std::string::npos) entry[item.substr(0, eq)] = item.substr(eq + 1);
      start = end + 1;
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

bool nginx_server::wait_for_access_log(std::size_t n, deadline d) const {
  return eventually([&] { return access_log().size() >= n; }, d);
}

std::string nginx_server::error_log() const { return read_file(dir_ / "error.log"); }

std::size_t distinct(const std::vector<access_entry>& entries, const std::string& field) {
  std::set<std::string> values;
  for (const auto& e : entries) {
    auto it = e.find(field);
    values.insert(it == e.end() ? std::string{} : it->second);
  }
  return values.size();
}

}  // namespace gantry::testing
