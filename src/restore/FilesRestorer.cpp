// FilesRestorer: (placeholder) Files state, Restorer side.
#include "restore/FilesRestorer.h"

#include "restore/RestoreContext.h"

namespace cryo {

void FilesRestorer::restore(RestoreContext&, const img::Process&) {}

}  // namespace cryo
