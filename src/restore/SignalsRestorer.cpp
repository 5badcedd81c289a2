// SignalsRestorer: (placeholder) Signals state, Restorer side.
#include "restore/SignalsRestorer.h"

#include "restore/RestoreContext.h"

namespace cryo {

void SignalsRestorer::restore(RestoreContext&, const img::Process&) {}

}  // namespace cryo
