// ProcessMiscRestorer: (placeholder) ProcessMisc state, Restorer side.
#include "restore/ProcessMiscRestorer.h"

#include "restore/RestoreContext.h"

namespace cryo {

void ProcessMiscRestorer::restore(RestoreContext&, const img::Process&) {}

}  // namespace cryo
