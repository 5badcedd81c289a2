// CredentialsCollector: (placeholder) Credentials state, Collector side.
#include "dump/CredentialsCollector.h"

#include "dump/DumpContext.h"

namespace cryo {

void CredentialsCollector::collect(DumpContext&, img::Process&) {}

}  // namespace cryo
