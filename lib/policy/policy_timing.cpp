#include "gantry/policy/policy_timing.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <tuple>
#include <utility>

#include "single_writer_histogram.hpp"
#include "text_escape.hpp"

namespace gantry::policy {
namespace {

constexpr std::size_t bucket_count = policy_timing::bucket_bounds.size() + 1;  // with +Inf
constexpr std::size_t mode_count = 2;
constexpr std::size_t page_size = 64;
constexpr std::size_t page_count = policy_timing::max_policies / page_size;
static_assert(page_count * page_size == policy_timing::max_policies);

using histogram = detail::single_writer_histogram<policy_timing::bucket_bounds>;
using detail::bump;
using detail::read;

// Every histogram of one policy in one shard.
struct policy_series {
  std::array<std::array<histogram, mode_count>, phase_count> by_phase{};
};

struct page {
  std::array<std::atomic<policy_series*>, page_size> slots{};
};

}  // namespace

// The series of one worker. Written by its thread only; read by `render` from any thread
// through acquire loads of the pointers the writer publishes.
class alignas(64) policy_timing::shard {
 public:
  shard() = default;
  shard(const shard&) = delete;
  shard& operator=(const shard&) = delete;
  ~shard() {
    for (auto& p : pages_) {
      page* pg = p.load(std::memory_order_relaxed);
      if (pg == nullptr) continue;
      for (auto& s : pg->slots) delete s.load(std::memory_order_relaxed);
      delete pg;
    }
  }

  bool sample(std::uint32_t one_in) noexcept {
    const std::uint32_t left = countdown_.load(std::memory_order_relaxed);
    if (left > 1) {
      countdown_.store(std::min(left - 1, one_in - 1), std::memory_order_relaxed);
      return false;
    }
    // The first exchange of a shard waits its turn like the others: 1 in N, the N-th.
    if (left == 0 && one_in > 1) {
      countdown_.store(one_in - 1, std::memory_order_relaxed);
      return false;
    }
    countdown_.store(one_in, std::memory_order_relaxed);
    bump(sampled_, 1);
    return true;
  }

  policy_series& series(std::uint32_t slot) {
    std::atomic<page*>& p = pages_[slot / page_size];
    page* pg = p.load(std::memory_order_relaxed);
    if (pg == nullptr) {
      pg = new page;
      p.store(pg, std::memory_order_release);
    }
    std::atomic<policy_series*>& s = pg->slots[slot % page_size];
    policy_series* ps = s.load(std::memory_order_relaxed);
    if (ps == nullptr) {
      ps = new policy_series;
      s.store(ps, std::memory_order_release);
    }
    return *ps;
  }

  const policy_series* find(std::uint32_t slot) const noexcept {
    const page* pg = pages_[slot / page_size].load(std::memory_order_acquire);
    return pg == nullptr ? nullptr : pg->slots[slot % page_size].load(std::memory_order_acquire);
  }

  std::uint64_t sampled() const noexcept { return read(sampled_); }

 private:
  std::array<std::atomic<page*>, page_count> pages_{};
  // Exchanges left before the next timed one; 0 before the first.
  std::atomic<std::uint32_t> countdown_{0};
  std::atomic<std::uint64_t> sampled_{0};
};

policy_timing::policy_timing(std::size_t shards) {
  if (shards == 0) throw std::invalid_argument("policy_timing: shards must be at least 1");
  shards_.reserve(shards);
  for (std::size_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<shard>());
  names_.reserve(64);
}

policy_timing::~policy_timing() = default;

std::size_t policy_timing::shards() const noexcept { return shards_.size(); }

std::uint32_t policy_timing::slot(std::string_view policy_name) {
  std::lock_guard lock{names_mutex_};
  // Few names, looked up only when chains are built: a scan is enough.
  for (std::size_t i = 0; i < names_.size(); ++i)
    if (*names_[i] == policy_name) return static_cast<std::uint32_t>(i);
  if (names_.size() + 1 >= max_policies) {
    constexpr std::string_view other = "other";
    for (std::size_t i = 0; i < names_.size(); ++i)
      if (*names_[i] == other) return static_cast<std::uint32_t>(i);
    policy_name = other;
  }
  names_.push_back(std::make_unique<const std::string>(policy_name));
  return static_cast<std::uint32_t>(names_.size() - 1);
}

bool policy_timing::sample(std::size_t shard_index, std::uint32_t one_in) noexcept {
  if (one_in == 0) return false;
  return shards_[shard_index % shards_.size()]->sample(one_in);
}

void policy_timing::record(std::size_t shard_index, std::uint32_t slot, phase ph, phase_mode mode,
                           std::chrono::nanoseconds took) {
  if (slot >= max_policies) return;
  shards_[shard_index % shards_.size()]
      ->series(slot)
      .by_phase[static_cast<std::size_t>(ph)][static_cast<std::size_t>(mode)]
      .observe(took);
  if (keep_capacity_ != 0) [[unlikely]] {
    const std::size_t series = (slot * phase_count + static_cast<std::size_t>(ph)) * mode_count +
                               static_cast<std::size_t>(mode);
    if (kept_.size() <= series) kept_.resize(series + 1);
    std::vector<std::chrono::nanoseconds>& into = kept_[series];
    if (into.capacity() == 0) into.reserve(keep_capacity_);
    if (into.size() < keep_capacity_) into.push_back(took);
  }
}

void policy_timing::keep_durations(std::size_t capacity) { keep_capacity_ = capacity; }

std::vector<policy_timing::kept_series> policy_timing::kept() const {
  std::vector<kept_series> out;
  for (std::size_t series = 0; series < kept_.size(); ++series) {
    if (kept_[series].empty()) continue;
    const std::size_t slot = series / (phase_count * mode_count);
    kept_series k;
    {
      std::lock_guard lock{names_mutex_};
      k.policy = *names_[slot];
    }
    k.ph = static_cast<phase>(series / mode_count % phase_count);
    k.mode = static_cast<phase_mode>(series % mode_count);
    k.took = kept_[series];
    out.push_back(std::move(k));
  }
  std::sort(out.begin(), out.end(), [](const kept_series& a, const kept_series& b) {
    return std::tie(a.policy, a.ph, a.mode) < std::tie(b.policy, b.ph, b.mode);
  });
  return out;
}

void policy_timing::render(std::string& out) const {
  // The names and their slots, sorted by name; a copy, so the lock is not held while
  // formatting.
  std::vector<std::pair<std::string_view, std::uint32_t>> policies;
  {
    std::lock_guard lock{names_mutex_};
    policies.reserve(names_.size());
    for (std::size_t i = 0; i < names_.size(); ++i)
      policies.emplace_back(*names_[i], static_cast<std::uint32_t>(i));
  }
  std::sort(policies.begin(), policies.end());

  auto out_it = std::back_inserter(out);
  constexpr std::string_view name = "gantry_policy_duration_seconds";
  fmt::format_to(out_it,
                 "# HELP {0} Time a policy phase took on sampled exchanges, in seconds: on the "
                 "worker (mode sync), or until its awaitable completed (mode async).\n"
                 "# TYPE {0} histogram\n",
                 name);
  std::string labels;
  for (const auto& [policy_name, slot] : policies) {
    for (std::size_t ph = 0; ph < phase_count; ++ph) {
      for (std::size_t mode = 0; mode < mode_count; ++mode) {
        std::array<std::uint64_t, bucket_count> buckets{};
        std::uint64_t sum_ns = 0;
        for (const auto& sh : shards_) {
          const policy_series* s = sh->find(slot);
          if (s == nullptr) continue;
          const histogram& h = s->by_phase[ph][mode];
          for (std::size_t b = 0; b < bucket_count; ++b) buckets[b] += read(h.buckets[b]);
          sum_ns += read(h.sum_ns);
        }
        std::uint64_t count = 0;
        for (std::uint64_t b : buckets) count += b;
        if (count == 0) continue;
        labels.assign("policy=\"");
        detail::append_label_value(labels, policy_name);
        labels.append(fmt::format("\",phase=\"{}\",mode=\"{}\"", name_of(static_cast<phase>(ph)),
                                  mode == 0 ? "sync" : "async"));
        std::uint64_t cumulative = 0;
        for (std::size_t b = 0; b < bucket_count; ++b) {
          cumulative += buckets[b];
          if (b + 1 < bucket_count)
            fmt::format_to(out_it, "{}_bucket{{{},le=\"{}\"}} {}\n", name, labels, bucket_bounds[b],
                           cumulative);
          else
            fmt::format_to(out_it, "{}_bucket{{{},le=\"+Inf\"}} {}\n", name, labels, cumulative);
        }
        fmt::format_to(out_it, "{}_sum{{{}}} {}\n", name, labels,
                       static_cast<double>(sum_ns) / 1e9);
        fmt::format_to(out_it, "{}_count{{{}}} {}\n", name, labels, cumulative);
      }
    }
  }

  std::uint64_t sampled = 0;
  for (const auto& sh : shards_) sampled += sh->sampled();
  fmt::format_to(out_it,
                 "# HELP gantry_policy_sampled_exchanges_total Exchanges whose policy phases "
                 "were timed.\n# TYPE gantry_policy_sampled_exchanges_total counter\n");
  if (sampled > 0) fmt::format_to(out_it, "gantry_policy_sampled_exchanges_total {}\n", sampled);
}

}  // namespace gantry::policy
