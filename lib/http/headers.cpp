#include "gantry/http/headers.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <string>

#include "gantry/core/ascii.hpp"
#include "gantry/http/field_syntax.hpp"

namespace gantry::http {
namespace {

// True when `s` views bytes of `storage`, as views that `get` or iteration handed out do.
bool views_into(const std::string& storage, std::string_view s) noexcept {
  std::less_equal<const char*> le;
  return !s.empty() && le(storage.data(), s.data()) &&
         le(s.data() + s.size(), storage.data() + storage.size());
}

}  // namespace

void headers::add(std::string_view name, std::string_view value) {
  if (views_into(storage_, name) || views_into(storage_, value)) {
    // Appending may reallocate storage_ and leave such a view dangling: copy first, so that
    // `h.add("X-Copy", *h.get("X-Original"))` works.
    std::string copy{name};
    copy.append(value);
    std::string_view both{copy};
    add(both.substr(0, name.size()), both.substr(name.size()));
    return;
  }
  entry e{};
  e.name_offset = static_cast<std::uint32_t>(storage_.size());
  e.name_length = static_cast<std::uint32_t>(name.size());
  storage_.append(name);
  e.value_offset = static_cast<std::uint32_t>(storage_.size());
  e.value_length = static_cast<std::uint32_t>(value.size());
  storage_.append(value);
  entries_.push_back(e);
}

void headers::set(std::string_view name, std::string_view value) {
  if (views_into(storage_, name) || views_into(storage_, value)) {
    std::string copy{name};
    copy.append(value);
    std::string_view both{copy};
    set(both.substr(0, name.size()), both.substr(name.size()));
    return;
  }
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (!core::iequals(at(i).name, name)) continue;
    checked_ = std::min(checked_, i);
    // Overwrite in place when it fits, so repeated sets do not grow the buffer.
    entry& e = entries_[i];
    if (value.size() <= e.value_length) {
      storage_.replace(e.value_offset, value.size(), value);
    } else {
      e.value_offset = static_cast<std::uint32_t>(storage_.size());
      storage_.append(value);
    }
    e.value_length = static_cast<std::uint32_t>(value.size());
    auto rest = std::remove_if(
        entries_.begin() + static_cast<std::ptrdiff_t>(i) + 1, entries_.end(),
        [&](const entry& other) {
          return core::iequals({storage_.data() + other.name_offset, other.name_length}, name);
        });
    entries_.erase(rest, entries_.end());
    return;
  }
  add(name, value);
}

std::size_t headers::erase(std::string_view name) noexcept {
  return erase_if([name](field f) { return core::iequals(f.name, name); });
}

headers::iterator headers::erase(iterator position) noexcept {
  checked_ -= position.index_ < checked_;
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(position.index_));
  return position;
}

bool headers::writable() noexcept {
  for (; checked_ < entries_.size(); ++checked_) {
    const field f = at(checked_);
    if (!is_writable_field(f.name, f.value)) return false;
  }
  return true;
}

std::optional<std::string_view> headers::get(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    field f = at(i);
    if (core::iequals(f.name, name)) return f.value;
  }
  return std::nullopt;
}

std::size_t headers::count(std::string_view name) const noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < entries_.size(); ++i) n += core::iequals(at(i).name, name);
  return n;
}

void header_builder::begin_field(std::string_view fragment) {
  // The parser checks what it delivers: its fields need no second look.
  if (target.checked_ == target.entries_.size()) ++target.checked_;
  headers::entry e{};
  e.name_offset = static_cast<std::uint32_t>(target.storage_.size());
  e.name_length = static_cast<std::uint32_t>(fragment.size());
  e.value_offset = e.name_offset + e.name_length;
  target.storage_.append(fragment);
  target.entries_.push_back(e);
}

void header_builder::append_name(std::string_view fragment) {
  headers::entry& e = target.entries_.back();
  target.storage_.append(fragment);
  e.name_length += static_cast<std::uint32_t>(fragment.size());
  e.value_offset = e.name_offset + e.name_length;
}

void header_builder::begin_value(std::string_view fragment) {
  headers::entry& e = target.entries_.back();
  e.value_offset = static_cast<std::uint32_t>(target.storage_.size());
  e.value_length = static_cast<std::uint32_t>(fragment.size());
  target.storage_.append(fragment);
}

void header_builder::append_value(std::string_view fragment) {
  target.storage_.append(fragment);
  target.entries_.back().value_length += static_cast<std::uint32_t>(fragment.size());
}

void header_builder::continue_value(std::size_t offset, std::size_t length) noexcept {
  headers::entry& e = target.entries_.back();
  std::memmove(target.storage_.data() + e.value_offset + e.value_length,
               target.storage_.data() + offset, length);
  e.value_length += static_cast<std::uint32_t>(length);
}

void header_builder::end_value() noexcept {
  headers::entry& e = target.entries_.back();
  while (e.value_length > 0) {
    char last = target.storage_[e.value_offset + e.value_length - 1];
    if (last != ' ' && last != '\t') break;
    --e.value_length;
  }
}

}  // namespace gantry::http
