// CredentialsCollector: user and group ids, supplementary groups, capability sets and
// no_new_privs of a frozen process (refusing threads whose credentials differ).
#include "dump/CredentialsCollector.h"

#include <google/protobuf/util/message_differencer.h>
#include <sstream>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "dump/DumpContext.h"

namespace cryo {

img::Credentials CredentialsCollector::fromStatus(const std::string& statusPath) {
  auto st = ProcFs::status(statusPath);
  img::Credentials c;
  auto ids = [&](const std::string& key, auto add) {
    std::istringstream in(st[key]);
    uint64_t v;
    while (in >> v) add(static_cast<uint32_t>(v));
  };
  ids("Uid", [&](uint32_t v) { c.add_uids(v); });
  ids("Gid", [&](uint32_t v) { c.add_gids(v); });
  ids("Groups", [&](uint32_t v) { c.add_groups(v); });
  auto hex = [&](const std::string& key) { return std::strtoull(st[key].c_str(), nullptr, 16); };
  c.set_cap_inh(hex("CapInh"));
  c.set_cap_prm(hex("CapPrm"));
  c.set_cap_eff(hex("CapEff"));
  c.set_cap_bnd(hex("CapBnd"));
  c.set_cap_amb(hex("CapAmb"));
  c.set_no_new_privs(st["NoNewPrivs"] == "1");
  return c;
}

void CredentialsCollector::collect(DumpContext& ctx, img::Process& out) {
  pid_t pid = ctx.pid();
  *out.mutable_creds() = fromStatus(ProcFs::path(pid, "status"));
  for (auto& t : ctx.freezer().threads()) {
    if (t->tid() == pid) continue;  // /proc/PID/status is the main thread's
    img::Credentials tc =
        fromStatus(ProcFs::path(pid, "task/" + std::to_string(t->tid()) + "/status"));
    if (!google::protobuf::util::MessageDifferencer::Equals(tc, out.creds()))
      fail("pid {}: thread {} has other credentials than the main thread; per-thread "
           "credentials are not supported yet",
           pid, t->tid());
  }
}

}  // namespace cryo
