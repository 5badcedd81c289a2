// ProcessMiscCollector: (placeholder) ProcessMisc state, Collector side.
#include "dump/ProcessMiscCollector.h"

#include "dump/DumpContext.h"

namespace cryo {

void ProcessMiscCollector::collect(DumpContext&, img::Process&) {}

}  // namespace cryo
