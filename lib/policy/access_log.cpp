#include "gantry/policy/access_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "config_errors.hpp"
#include "gantry/http/method.hpp"
#include "gantry/policy/header_value.hpp"
#include "text_escape.hpp"

namespace gantry::policy {
namespace {

enum class field : std::uint8_t {
  time,
  method,
  path,
  route,
  cluster,
  endpoint,
  status,
  bytes_in,
  bytes_out,
  duration_ms,
  upstream_ms,
  request_id,
  consumer,
  client,
  scheme,
  error,
};

// In `field` order.
constexpr std::array<std::string_view, 16> names = {
    "time",     "method",   "path",      "route",       "cluster",     "endpoint",
    "status",   "bytes_in", "bytes_out", "duration_ms", "upstream_ms", "request_id",
    "consumer", "client",   "scheme",    "error",
};

void append_uint(std::string& out, std::uint64_t v) {
  char digits[20];
  auto end = std::to_chars(digits, digits + sizeof digits, v).ptr;
  out.append(digits, static_cast<std::size_t>(end - digits));
}

// Writes `v` (0 to 9999) with exactly `width` digits, leading zeros included; returns the end.
char* put_fixed(char* at, unsigned v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return at + width;
}

// Milliseconds with three decimals: 12.345 for 12 345 us. Negative spans count as 0.
void append_ms(std::string& out, clock::duration d) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  const auto v = static_cast<std::uint64_t>(std::max<std::int64_t>(us, 0));
  char text[32];
  char* end = std::to_chars(text, text + 20, v / 1000).ptr;
  *end++ = '.';
  end = put_fixed(end, static_cast<unsigned>(v % 1000), 3);
  out.append(text, static_cast<std::size_t>(end - text));
}

// RFC 3339 in UTC with milliseconds: 2024-01-01T00:00:00.250Z, quoted. Written into a local
// buffer and appended once: this runs on every exchange.
void append_time(std::string& out, clock::system_time t) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day date{day};
  const hh_mm_ss<milliseconds> time{ms - day};
  char text[sizeof "\"2024-01-01T00:00:00.250Z\""];
  char* at = text;
  *at++ = '"';
  at = put_fixed(at, static_cast<unsigned>(std::clamp(int{date.year()}, 0, 9999)), 4);
  *at++ = '-';
  at = put_fixed(at, unsigned{date.month()}, 2);
  *at++ = '-';
  at = put_fixed(at, unsigned{date.day()}, 2);
  *at++ = 'T';
  at = put_fixed(at, static_cast<unsigned>(time.hours().count()), 2);
  *at++ = ':';
  at = put_fixed(at, static_cast<unsigned>(time.minutes().count()), 2);
  *at++ = ':';
  at = put_fixed(at, static_cast<unsigned>(time.seconds().count()), 2);
  *at++ = '.';
  at = put_fixed(at, static_cast<unsigned>(time.subseconds().count()), 3);
  *at++ = 'Z';
  *at++ = '"';
  out.append(text, static_cast<std::size_t>(at - text));
}

// The wall-clock time of `t`, an instant of `c`'s monotonic clock that is close to now.
//
// The offset between the two clocks is read once per second per thread (and clock), not per
// line: two clock reads less per exchange. A step of the wall clock shows within a second.
clock::system_time wall_time_of(const policy::clock& c, clock::time_point t) {
  struct offset_cache {
    const policy::clock* source = nullptr;
    clock::time_point read_at{};
    clock::system_time::duration offset{};
  };
  thread_local offset_cache cache;
  const auto age = t - cache.read_at;
  if (cache.source != &c || age > std::chrono::seconds{1} || age < -std::chrono::seconds{1}) {
    const clock::time_point steady = c.now();
    cache.offset =
        c.system_now().time_since_epoch() -
        std::chrono::duration_cast<clock::system_time::duration>(steady.time_since_epoch());
    cache.read_at = steady;
    cache.source = &c;
  }
  return clock::system_time{
      std::chrono::duration_cast<clock::system_time::duration>(t.time_since_epoch()) +
      cache.offset};
}

// A JSON string, or null when `s` is empty.
void append_string_or_null(std::string& out, std::string_view s) {
  if (s.empty())
    out.append("null");
  else
    detail::append_json_string(out, s);
}

}  // namespace

// The compiled configuration: which fields, in which order.
struct access_log::layout {
  std::vector<field> fields;
  // For each field, the bytes before its value: `{"time":` for the first, `,"method":` next.
  std::vector<std::string> keys;
  std::string request_id_header;
};

// Takes lines from any number of threads and writes them, in batches, on a thread of its own.
//
// Producers append whole lines to `pending_` under `mutex_` (a copy of a few hundred bytes);
// the writer swaps `pending_` with its own buffer and writes that without the lock, so both
// buffers keep their capacity and steady traffic allocates nothing. Producers wake the writer
// only when it sleeps with nothing to do or when `flush_bytes` are waiting; otherwise it
// wakes on its own every `flush_interval`, so there is no system call per line.
class access_log::writer {
 public:
  writer(int fd, bool owns_fd, const access_log_config& c)
      : fd_{fd},
        owns_fd_{owns_fd},
        interval_{c.flush_interval},
        flush_bytes_{c.flush_bytes},
        max_bytes_{c.max_buffered_bytes} {
    // Reserved whole, so that pushing never reallocates (pages are only committed as used).
    pending_.reserve(max_bytes_);
    thread_ = std::thread{[this] { run(); }};
  }

  writer(const writer&) = delete;
  writer& operator=(const writer&) = delete;

  ~writer() {
    {
      std::lock_guard lock{mutex_};
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
    if (owns_fd_) ::close(fd_);
  }

  void push(std::string_view line) {
    bool wake = false;
    {
      std::lock_guard lock{mutex_};
      const std::size_t before = pending_.size();
      if (before + line.size() > max_bytes_) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      pending_.append(line);
      ++pushed_;
      if (idle_) {
        idle_ = false;
        wake = true;
      } else {
        wake = before < flush_bytes_ && pending_.size() >= flush_bytes_;
      }
    }
    if (wake) wake_.notify_one();
  }

  void flush() {
    std::unique_lock lock{mutex_};
    const std::uint64_t target = pushed_;
    flush_target_ = std::max(flush_target_, target);
    wake_.notify_one();
    written_cv_.wait(lock, [&] { return written_ >= target; });
  }

  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  std::uint64_t errors() const noexcept { return errors_.load(std::memory_order_relaxed); }

 private:
  void run() {
    std::string batch;
    batch.reserve(max_bytes_);
    std::unique_lock lock{mutex_};
    for (;;) {
      if (pending_.empty()) {
        if (stopping_) return;
        idle_ = true;
        // With nothing pending, everything pushed is written: a flush has nothing to wait for.
        wake_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
        idle_ = false;
        continue;
      }
      // Gather more lines unless asked to write now.
      wake_.wait_for(lock, interval_, [&] {
        return stopping_ || written_ < flush_target_ || pending_.size() >= flush_bytes_;
      });
      batch.swap(pending_);
      const std::uint64_t through = pushed_;
      lock.unlock();
      write_all(batch);
      batch.clear();
      lock.lock();
      written_ = through;
      written_cv_.notify_all();
    }
  }

  void write_all(std::string_view data) {
    while (!data.empty()) {
      const ::ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        errors_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  const int fd_;
  const bool owns_fd_;
  const std::chrono::milliseconds interval_;
  const std::size_t flush_bytes_;
  const std::size_t max_bytes_;

  std::mutex mutex_;
  std::condition_variable wake_;        // the writer waits on it
  std::condition_variable written_cv_;  // `flush` waits on it
  std::string pending_;
  std::uint64_t pushed_ = 0;        // lines accepted so far
  std::uint64_t written_ = 0;       // `pushed_` as of the last batch written
  std::uint64_t flush_target_ = 0;  // `flush` waits until `written_` reaches it
  bool idle_ = false;
  bool stopping_ = false;
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> errors_{0};
  std::thread thread_;  // last: starts once the rest is ready
};

std::span<const std::string_view> access_log::field_names() noexcept { return names; }

access_log::access_log(access_log_config config) {
  detail::config_errors errors{"access_log"};
  auto l = std::make_shared<layout>();

  if (config.fields.empty()) {
    for (std::size_t i = 0; i < names.size(); ++i) l->fields.push_back(static_cast<field>(i));
  } else {
    std::string unknown;
    std::string repeated;
    for (const std::string& name : config.fields) {
      auto it = std::find(names.begin(), names.end(), name);
      std::string& list = it == names.end() ? unknown : repeated;
      if (it != names.end()) {
        const auto f = static_cast<field>(it - names.begin());
        if (std::find(l->fields.begin(), l->fields.end(), f) == l->fields.end()) {
          l->fields.push_back(f);
          continue;
        }
      }
      list.append(list.empty() ? "'" : ", '");
      list.append(name);
      list.append("'");
    }
    if (!unknown.empty()) {
      std::string known;
      for (std::string_view n : names) {
        known.append(known.empty() ? "" : ", ");
        known.append(n);
      }
      errors.add("fields", "unknown field names " + unknown + " (known: " + known + ")");
    }
    if (!repeated.empty()) errors.add("fields", "repeated field names " + repeated);
  }

  if (!is_field_name(config.request_id_header))
    errors.add("request_id_header", "must be a field name (an RFC 9110 token)");
  if (config.flush_interval < std::chrono::milliseconds{1})
    errors.add("flush_interval", "must be at least 1 ms");
  if (config.flush_bytes == 0) errors.add("flush_bytes", "must be at least 1");
  if (config.max_buffered_bytes < config.flush_bytes)
    errors.add("max_buffered_bytes", "must be at least flush_bytes");

  int fd = -1;
  bool owns_fd = false;
  if (config.destination.empty()) {
    errors.add("destination", "must be \"stdout\" or a file path");
  } else if (config.destination == "stdout") {
    fd = STDOUT_FILENO;
  } else {
    fd = ::open(config.destination.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      errors.add("destination",
                 "cannot open '" + config.destination + "' for appending: " + std::strerror(errno));
    } else {
      owns_fd = true;
    }
  }
  try {
    errors.throw_if_any();
  } catch (...) {
    if (owns_fd) ::close(fd);
    throw;
  }

  for (field f : l->fields) {
    std::string key{l->keys.empty() ? "{\"" : ",\""};
    key.append(names[static_cast<std::size_t>(f)]);
    key.append("\":");
    l->keys.push_back(std::move(key));
  }
  l->request_id_header = std::move(config.request_id_header);
  layout_ = std::move(l);
  writer_ = std::make_shared<writer>(fd, owns_fd, config);
}

void access_log::format(const exchange& ex, std::string& out) const {
  // The first key opens the object (a layout always has at least one field).
  for (std::size_t i = 0; i < layout_->fields.size(); ++i) {
    const field f = layout_->fields[i];
    out.append(layout_->keys[i]);
    switch (f) {
      case field::time:
        // The exchange keeps monotonic instants: the start goes on the wall clock by offset.
        append_time(out, wall_time_of(ex.clock(), ex.timings.start));
        break;
      case field::method:
        detail::append_json_string(out, http::to_string(ex.request.method));
        break;
      case field::path:
        detail::append_json_string(out, ex.request.target);
        break;
      case field::route:
        append_string_or_null(out, ex.route_name);
        break;
      case field::cluster:
        append_string_or_null(out, ex.cluster);
        break;
      case field::endpoint:
        append_string_or_null(out, ex.endpoint);
        break;
      case field::status:
        if (ex.origin() == response_origin::none)
          out.append("null");
        else
          append_uint(out, static_cast<unsigned>(ex.response.status));
        break;
      case field::bytes_in:
        append_uint(out, ex.request_bytes);
        break;
      case field::bytes_out:
        append_uint(out, ex.response_bytes);
        break;
      case field::duration_ms: {
        const clock::time_point end =
            ex.timings.end == clock::time_point{} ? ex.clock().now() : ex.timings.end;
        append_ms(out, end - ex.timings.start);
        break;
      }
      case field::upstream_ms:
        if (ex.origin() == response_origin::upstream &&
            ex.timings.response_head != clock::time_point{})
          append_ms(out, ex.timings.response_head - ex.timings.start);
        else
          out.append("null");
        break;
      case field::request_id: {
        auto id = ex.request.fields.get(layout_->request_id_header);
        if (id)
          detail::append_json_string(out, *id);
        else
          out.append("null");
        break;
      }
      case field::consumer:
        append_string_or_null(out, ex.consumer);
        break;
      case field::client:
        append_string_or_null(out, ex.downstream.peer_address);
        break;
      case field::scheme:
        detail::append_json_string(out, ex.downstream.scheme);
        break;
      case field::error:
        if (ex.error)
          detail::append_json_string(out, ex.error.message());  // failures only: allocates
        else
          out.append("null");
        break;
    }
  }
  out.append("}\n", 2);
}

void access_log::on_log(exchange& ex) const {
  // One buffer per thread, reused line after line: formatting allocates nothing once warm.
  thread_local std::string line;
  line.clear();
  format(ex, line);
  writer_->push(line);
}

void access_log::flush() const { writer_->flush(); }

std::uint64_t access_log::dropped_lines() const noexcept { return writer_->dropped(); }

std::uint64_t access_log::write_errors() const noexcept { return writer_->errors(); }

}  // namespace gantry::policy
