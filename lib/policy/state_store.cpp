#include "gantry/policy/state_store.hpp"

namespace gantry::policy {

void state_store::prepare(const state_layout& layout) {
  clear();
  base_ = inline_;
  if (layout.size > inline_capacity) {
    if (heap_capacity_ < layout.size) {
      heap_.reset(new std::byte[layout.size]);
      heap_capacity_ = layout.size;
    }
    base_ = heap_.get();
  }
  entries_ = layout.entries;
  try {
    for (const state_entry& e : entries_) {
      e.construct(base_ + e.offset);
      ++constructed_;
    }
  } catch (...) {
    clear();
    throw;
  }
  prepared_ = true;
}

void state_store::clear() noexcept {
  while (constructed_ > 0) {
    --constructed_;
    const state_entry& e = entries_[constructed_];
    e.destroy(base_ + e.offset);
  }
  entries_ = {};
  prepared_ = false;
}

}  // namespace gantry::policy
