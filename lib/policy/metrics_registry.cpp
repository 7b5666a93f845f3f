#include "gantry/policy/metrics_registry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "single_writer_histogram.hpp"
#include "text_escape.hpp"

namespace gantry::policy {
namespace {

constexpr std::size_t bucket_count = metrics_registry::bucket_bounds.size() + 1;  // with +Inf

// The `le` label of each bucket, as Prometheus' own clients write the defaults.
constexpr std::array<std::string_view, bucket_count> bucket_labels = {
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"};

// Index 0 is "other": no response, or a status outside 100 to 599.
constexpr std::size_t class_count = 6;
constexpr std::array<std::string_view, class_count> class_labels = {"other", "1xx", "2xx",
                                                                    "3xx",   "4xx", "5xx"};

constexpr std::size_t class_of(std::uint16_t status) noexcept {
  return status >= 100 && status <= 599 ? status / 100 : 0;
}

constexpr std::size_t event_count = 5;  // connection_event's values

using histogram = detail::single_writer_histogram<metrics_registry::bucket_bounds>;
using detail::bump;
using detail::read;

// A histogram's merged totals.
struct histogram_totals {
  std::array<std::uint64_t, bucket_count> buckets{};
  std::uint64_t sum_ns = 0;

  void add(const histogram& h) noexcept {
    for (std::size_t i = 0; i < bucket_count; ++i) buckets[i] += read(h.buckets[i]);
    sum_ns += read(h.sum_ns);
  }
  std::uint64_t count() const noexcept {
    std::uint64_t n = 0;
    for (std::uint64_t b : buckets) n += b;
    return n;
  }
};

}  // namespace

// The counters of one (route, cluster) in one shard. Written by the shard's thread only; its
// own cache lines, so shards never share one.
struct alignas(64) metrics_registry::series {
  series(std::string_view r, std::string_view c) : route{r}, cluster{c} {}

  const std::string route;
  const std::string cluster;
  std::array<std::atomic<std::uint64_t>, class_count> requests{};
  histogram duration;
  histogram upstream;
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::uint64_t> bytes_out{0};
  // The series added before this one in the shard; fixed before this one is published.
  const series* next = nullptr;
};

// The series of one worker. `find_or_add` is the writer's alone; readers only walk the list
// published through `head_`.
class alignas(64) metrics_registry::shard {
 public:
  series& find_or_add(std::string_view route, std::string_view cluster) {
    // Most exchanges on a worker hit the label set of the one before.
    if (last_ != nullptr && last_->route == route && last_->cluster == cluster) return *last_;
    auto it = index_.find(key{route, cluster});
    if (it == index_.end()) {
      series* s = add(route, cluster);
      it = index_.emplace(key{s->route, s->cluster}, s).first;
    }
    last_ = it->second;
    return *last_;
  }

  const series* first() const noexcept { return head_.load(std::memory_order_acquire); }

  // Counted by any thread (fetch_add), unlike the series.
  std::array<std::atomic<std::uint64_t>, event_count> events{};

 private:
  // Views into a series' own strings (or, for a lookup, into the caller's).
  struct key {
    std::string_view route;
    std::string_view cluster;
    bool operator==(const key&) const = default;
  };
  struct key_hash {
    std::size_t operator()(const key& k) const noexcept {
      const std::size_t h = std::hash<std::string_view>{}(k.route);
      return h ^ (std::hash<std::string_view>{}(k.cluster) + 0x9e3779b97f4a7c15ull + (h << 6) +
                  (h >> 2));
    }
  };

  // Creates a series and publishes it to readers.
  series* add(std::string_view route, std::string_view cluster) {
    owned_.push_back(std::make_unique<series>(route, cluster));
    series* s = owned_.back().get();
    s->next = head_.load(std::memory_order_relaxed);
    head_.store(s, std::memory_order_release);
    return s;
  }

  std::unordered_map<key, series*, key_hash> index_;
  std::vector<std::unique_ptr<series>> owned_;
  series* last_ = nullptr;
  std::atomic<const series*> head_{nullptr};
};

metrics_registry::metrics_registry(std::size_t shards)
    : policy_times_{std::max<std::size_t>(shards, 1)} {
  if (shards == 0) throw std::invalid_argument("metrics_registry: shards must be at least 1");
  shards_.reserve(shards);
  for (std::size_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<shard>());
}

metrics_registry::~metrics_registry() = default;

std::size_t metrics_registry::shards() const noexcept { return shards_.size(); }

void metrics_registry::record(std::size_t shard_index, const metrics_sample& sample) {
  series& s = shards_[shard_index % shards_.size()]->find_or_add(sample.route, sample.cluster);
  bump(s.requests[class_of(sample.status)], 1);
  s.duration.observe(sample.duration);
  if (sample.upstream) s.upstream.observe(*sample.upstream);
  bump(s.bytes_in, sample.bytes_in);
  bump(s.bytes_out, sample.bytes_out);
}

void metrics_registry::count(std::size_t shard_index, connection_event event) noexcept {
  shards_[shard_index % shards_.size()]->events[static_cast<std::size_t>(event)].fetch_add(
      1, std::memory_order_relaxed);
}

std::uint64_t metrics_registry::count(connection_event event) const noexcept {
  std::uint64_t n = 0;
  for (const auto& sh : shards_) n += read(sh->events[static_cast<std::size_t>(event)]);
  return n;
}

std::string metrics_registry::render() const {
  std::string out;
  render(out);
  return out;
}

void metrics_registry::render(std::string& out) const {
  struct totals {
    std::array<std::uint64_t, class_count> requests{};
    histogram_totals duration;
    histogram_totals upstream;
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    std::string labels;  // route="...",cluster="..."
  };
  // Views into the series' strings, which live as long as the registry.
  std::map<std::pair<std::string_view, std::string_view>, totals> merged;
  for (const auto& sh : shards_) {
    for (const series* s = sh->first(); s != nullptr; s = s->next) {
      totals& t = merged[{s->route, s->cluster}];
      for (std::size_t i = 0; i < class_count; ++i) t.requests[i] += read(s->requests[i]);
      t.duration.add(s->duration);
      t.upstream.add(s->upstream);
      t.bytes_in += read(s->bytes_in);
      t.bytes_out += read(s->bytes_out);
    }
  }
  for (auto& [names, t] : merged) {
    t.labels.append("route=\"");
    detail::append_label_value(t.labels, names.first);
    t.labels.append("\",cluster=\"");
    detail::append_label_value(t.labels, names.second);
    t.labels.append("\"");
  }

  auto out_it = std::back_inserter(out);
  auto header = [&](std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(out_it, "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  auto histogram_lines = [&](std::string_view name, const std::string& labels,
                             const histogram_totals& h) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
      cumulative += h.buckets[i];
      fmt::format_to(out_it, "{}_bucket{{{},le=\"{}\"}} {}\n", name, labels, bucket_labels[i],
                     cumulative);
    }
    fmt::format_to(out_it, "{}_sum{{{}}} {}\n", name, labels, static_cast<double>(h.sum_ns) / 1e9);
    fmt::format_to(out_it, "{}_count{{{}}} {}\n", name, labels, cumulative);
  };

  header("gantry_requests_total", "counter",
         "Requests completed, by route, cluster and status class.");
  for (const auto& [names, t] : merged)
    for (std::size_t i = 0; i < class_count; ++i)
      if (t.requests[i] > 0)
        fmt::format_to(out_it, "gantry_requests_total{{{},status_class=\"{}\"}} {}\n", t.labels,
                       class_labels[i], t.requests[i]);

  header("gantry_request_duration_seconds", "histogram",
         "Time from the request head to the end of the response, in seconds.");
  for (const auto& [names, t] : merged)
    histogram_lines("gantry_request_duration_seconds", t.labels, t.duration);

  header("gantry_upstream_duration_seconds", "histogram",
         "Time from the request head to the upstream's response head, in seconds.");
  for (const auto& [names, t] : merged)
    if (t.upstream.count() > 0)
      histogram_lines("gantry_upstream_duration_seconds", t.labels, t.upstream);

  header("gantry_request_bytes_total", "counter",
         "Bytes of requests read from clients, head and body.");
  for (const auto& [names, t] : merged)
    fmt::format_to(out_it, "gantry_request_bytes_total{{{}}} {}\n", t.labels, t.bytes_in);

  header("gantry_response_bytes_total", "counter",
         "Bytes of responses written to clients, head and body.");
  for (const auto& [names, t] : merged)
    fmt::format_to(out_it, "gantry_response_bytes_total{{{}}} {}\n", t.labels, t.bytes_out);

  if (const auto accepted = count(connection_event::accepted); accepted > 0) {
    header("gantry_connections_total", "counter", "Client connections accepted.");
    fmt::format_to(out_it, "gantry_connections_total {}\n", accepted);
  }
  constexpr std::array<std::pair<connection_event, std::string_view>, 4> handshakes = {{
      {connection_event::tls_full_handshake, "full"},
      {connection_event::tls_resumed, "resumed"},
      {connection_event::tls_failed, "failed"},
      {connection_event::tls_timed_out, "timed_out"},
  }};
  std::array<std::uint64_t, handshakes.size()> handshake_counts{};
  for (std::size_t i = 0; i < handshakes.size(); ++i)
    handshake_counts[i] = count(handshakes[i].first);
  if (std::any_of(handshake_counts.begin(), handshake_counts.end(),
                  [](std::uint64_t n) { return n > 0; })) {
    header("gantry_tls_handshakes_total", "counter", "TLS handshakes with clients, by result.");
    for (std::size_t i = 0; i < handshakes.size(); ++i)
      fmt::format_to(out_it, "gantry_tls_handshakes_total{{result=\"{}\"}} {}\n",
                     handshakes[i].second, handshake_counts[i]);
  }

  policy_times_.render(out);
}

}  // namespace gantry::policy
