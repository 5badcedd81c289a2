// CredentialsRestorer: gives every thread the saved ids, groups, capabilities and
// no_new_privs (credentials are per thread in Linux). Runs last: it may drop privileges.
#include "restore/CredentialsRestorer.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <google/protobuf/util/message_differencer.h>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "dump/CredentialsCollector.h"
#include "restore/RestoreContext.h"

namespace cryo {

void CredentialsRestorer::restore(RestoreContext& ctx, const img::Process& in) {
  const img::Credentials& want = in.creds();
  img::Credentials have = CredentialsCollector::fromStatus(ProcFs::path(ctx.pid(), "status"));
  if (google::protobuf::util::MessageDifferencer::Equals(want, have)) return;
  if (want.uids_size() < 3 || want.gids_size() < 3)
    fail("pid {}: the image's credentials are incomplete", ctx.pid());
  for (auto& t : ctx.threads()) {
    RemoteSyscalls& rs = ctx.syscalls(t->tid());
    std::string who = fmt::format("pid {} tid {}", ctx.pid(), t->tid());
    RemoteScratch& s = ctx.scratch();
    std::vector<uint32_t> groups(want.groups().begin(), want.groups().end());
    uint64_t g = groups.empty() ? 0 : s.put(groups.data(), groups.size() * 4);
    rs.check(who + ": setgroups", SYS_setgroups, groups.size(), g);
    rs.check(who + ": prctl(PR_SET_KEEPCAPS)", SYS_prctl, PR_SET_KEEPCAPS, 1);
    rs.check(who + ": setresgid", SYS_setresgid, want.gids(0), want.gids(1), want.gids(2));
    rs.check(who + ": setresuid", SYS_setresuid, want.uids(0), want.uids(1), want.uids(2));
    for (int cap = 0; cap <= 63; ++cap)
      if (!(want.cap_bnd() >> cap & 1) && (have.cap_bnd() >> cap & 1))
        rs.call(SYS_prctl, PR_CAPBSET_DROP, static_cast<uint64_t>(cap));
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    data[0].effective = static_cast<uint32_t>(want.cap_eff());
    data[1].effective = static_cast<uint32_t>(want.cap_eff() >> 32);
    data[0].permitted = static_cast<uint32_t>(want.cap_prm());
    data[1].permitted = static_cast<uint32_t>(want.cap_prm() >> 32);
    data[0].inheritable = static_cast<uint32_t>(want.cap_inh());
    data[1].inheritable = static_cast<uint32_t>(want.cap_inh() >> 32);
    uint64_t h = s.putValue(hdr);
    uint64_t d = s.put(data, sizeof data);
    rs.check(who + ": capset", SYS_capset, h, d);
    for (int cap = 0; cap <= 63; ++cap)
      if (want.cap_amb() >> cap & 1)
        rs.check(who + ": raising an ambient capability", SYS_prctl, PR_CAP_AMBIENT,
                 PR_CAP_AMBIENT_RAISE, static_cast<uint64_t>(cap), 0, 0);
    rs.check(who + ": prctl(PR_SET_KEEPCAPS, 0)", SYS_prctl, PR_SET_KEEPCAPS, 0);
    if (want.no_new_privs())
      rs.check(who + ": prctl(PR_SET_NO_NEW_PRIVS)", SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  }
}

}  // namespace cryo
