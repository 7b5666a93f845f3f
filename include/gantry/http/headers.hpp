#pragma once
/// @file
/// An ordered, case-insensitive multimap of header fields.

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::http {

/// One header field as a pair of views into its `headers` container.
struct field {
  std::string_view name;
  std::string_view value;
};

/// Header fields in the order they were added, with case-insensitive lookup and repeated
/// names kept as separate fields (RFC 9110 5.3).
///
/// All names and values live in one buffer that `clear()` keeps, so a parser that reuses a
/// `headers` per connection stops allocating once it has seen its largest message. Views
/// handed out stay valid until the container is next modified.
///
/// `add` and `set` take any bytes; `writable` says whether every field can be written as it
/// is. It checks only the fields added or changed since it last looked, so the gateway can ask
/// after policies ran without re-checking the fields the parser already checked.
///
/// ```
/// gantry::http::headers h;
/// h.add("Accept", "text/html");
/// h.add("accept", "application/json");
/// h.count("ACCEPT");        // 2
/// h.get("Accept");          // "text/html", the first one
/// ```
class headers {
 public:
  class iterator;

  headers() = default;

  /// Appends a field, keeping any existing fields of the same name.
  void add(std::string_view name, std::string_view value);
  /// Replaces every field named `name` with one field at the position of the first.
  void set(std::string_view name, std::string_view value);
  /// Removes every field named `name`; returns how many were removed.
  std::size_t erase(std::string_view name) noexcept;
  /// Removes the field at `position`; returns the iterator to the field after it.
  iterator erase(iterator position) noexcept;
  /// Removes every field for which `pred(field)` is true, in one pass that keeps the order of
  /// the others; returns how many were removed. Views of any field stay valid until the
  /// container is next added to, `pred`'s own included.
  template <class Predicate>
  std::size_t erase_if(Predicate pred);
  /// Removes all fields; the buffers keep their capacity. Inline: every exchange clears
  /// several containers, most of them empty.
  void clear() noexcept {
    storage_.clear();
    entries_.clear();
    checked_ = 0;
  }

  /// True when every field can be written as it is (`http::is_writable_field`): no name that
  /// is not a token, no value with CR, LF or NUL. Fields filled by `header_builder` are taken
  /// as the parser checked them. Not const: it remembers how far it has checked.
  bool writable() noexcept;

  /// The value of the first field named `name`, if any.
  std::optional<std::string_view> get(std::string_view name) const noexcept;
  /// True when at least one field is named `name`.
  bool contains(std::string_view name) const noexcept { return get(name).has_value(); }
  /// Number of fields named `name`.
  std::size_t count(std::string_view name) const noexcept;

  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }

  iterator begin() const noexcept;
  iterator end() const noexcept;

 private:
  friend struct header_builder;

  // Offsets into storage_ rather than strings: one allocation for all fields.
  struct entry {
    std::uint32_t name_offset;
    std::uint32_t name_length;
    std::uint32_t value_offset;
    std::uint32_t value_length;
  };

  field at(std::size_t index) const noexcept {
    const entry& e = entries_[index];
    return {{storage_.data() + e.name_offset, e.name_length},
            {storage_.data() + e.value_offset, e.value_length}};
  }

  std::string storage_;
  std::vector<entry> entries_;
  // How many leading fields are known to be writable; fields from there on are checked by the
  // next `writable()`. `set` moves it back to the field it changes; erasing shrinks it by
  // the removed fields that were inside it.
  std::size_t checked_ = 0;

 public:
  /// A forward iterator over the fields, yielding `field` by value.
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = field;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = field;

    iterator() = default;
    field operator*() const noexcept { return owner_->at(index_); }
    iterator& operator++() noexcept {
      ++index_;
      return *this;
    }
    iterator operator++(int) noexcept {
      auto copy = *this;
      ++index_;
      return copy;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept {
      return a.index_ == b.index_;
    }

   private:
    friend class headers;
    iterator(const headers* owner, std::size_t index) : owner_{owner}, index_{index} {}
    const headers* owner_ = nullptr;
    std::size_t index_ = 0;
  };
};

inline headers::iterator headers::begin() const noexcept { return {this, 0}; }
inline headers::iterator headers::end() const noexcept { return {this, entries_.size()}; }

template <class Predicate>
std::size_t headers::erase_if(Predicate pred) {
  // Removing fields changes none of the others: the checked ones before a removed field stay
  // checked, so the checked prefix only shrinks by the removed fields inside it.
  std::size_t kept = 0;
  std::size_t removed_checked = 0;
  std::size_t i = 0;
  // Closes the gap the removed fields left; if `pred` throws, every field from the one it
  // was asked about on stays.
  auto close_gap = [&] {
    for (; i < entries_.size(); ++i) entries_[kept++] = entries_[i];
    entries_.resize(kept);
    checked_ -= removed_checked;
  };
  const std::size_t before = entries_.size();
  try {
    for (; i < entries_.size(); ++i) {
      if (pred(at(i))) {
        removed_checked += i < checked_;
        continue;
      }
      entries_[kept++] = entries_[i];
    }
  } catch (...) {
    close_gap();
    throw;
  }
  close_gap();
  return before - kept;
}

/// Fills a `headers` as a streaming parser reads a message, in either of two ways. Used by
/// `http::parser`.
///
/// From fragments: a name may arrive in several pieces, then its value in several pieces.
///
/// From the raw bytes of a head: they are copied in as they are, and fields are then marked
/// in them by offset, with no copy per field. Only for an empty `headers`, before any field
/// is added another way.
struct header_builder {
  explicit header_builder(headers& h) noexcept : target{h} {}
  /// Starts a new field whose name is `fragment` so far.
  void begin_field(std::string_view fragment);
  void append_name(std::string_view fragment);
  /// Starts the current field's value.
  void begin_value(std::string_view fragment);
  void append_value(std::string_view fragment);
  /// Ends the current value, dropping trailing whitespace.
  void end_value() noexcept;

  /// Appends raw bytes of the head.
  void append_raw(std::string_view bytes) { target.storage_.append(bytes); }
  /// The raw bytes so far.
  std::string_view raw() const noexcept { return target.storage_; }
  /// The field added last; there must be one.
  field last() const noexcept { return target.at(target.size() - 1); }
  /// Adds a field whose name and value are the raw bytes at these offsets.
  void add_raw_field(std::size_t name_offset, std::size_t name_length, std::size_t value_offset,
                     std::size_t value_length) {
    if (target.checked_ == target.entries_.size()) ++target.checked_;
    target.entries_.push_back(
        {static_cast<std::uint32_t>(name_offset), static_cast<std::uint32_t>(name_length),
         static_cast<std::uint32_t>(value_offset), static_cast<std::uint32_t>(value_length)});
  }
  /// Moves the `length` raw bytes at `offset`, which lie after the last field's value, to
  /// that value's end (an obs-fold line, unfolded).
  void continue_value(std::size_t offset, std::size_t length) noexcept;

  headers& target;
};

}  // namespace gantry::http
