// CredentialsRestorer: (placeholder) Credentials state, Restorer side.
#include "restore/CredentialsRestorer.h"

#include "restore/RestoreContext.h"

namespace cryo {

void CredentialsRestorer::restore(RestoreContext&, const img::Process&) {}

}  // namespace cryo
