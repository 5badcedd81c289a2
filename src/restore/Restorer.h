// Restorer: the interface of one kind of process state on the restore side; the counterpart
// of a Collector. Restorers run in a fixed order (see RestorerRegistry).
#pragma once

#include <string_view>

#include "cryo.pb.h"

namespace cryo {

class RestoreContext;

class Restorer {
 public:
  virtual ~Restorer() = default;
  virtual std::string_view name() const = 0;
  // Checks, before anything is built, that this state can be restored here (files exist,
  // are long enough, ...). Throws an Error saying what is wrong.
  virtual void validate(RestoreContext& /*ctx*/, const img::Process& /*in*/) {}
  // Builds, before the process's children are created from it (they inherit it), what they
  // may share with it. Children are created once their parent has run this.
  virtual void beforeChildren(RestoreContext& /*ctx*/, const img::Process& /*in*/) {}
  // Tells a child's restorer the same restorer of its parent (which ran beforeChildren()),
  // before this one runs anything.
  virtual void bornFrom(const Restorer& /*parentsOwn*/) {}
  // Rebuilds this kind of state inside the process being restored.
  virtual void restore(RestoreContext& ctx, const img::Process& in) = 0;
};

}  // namespace cryo
