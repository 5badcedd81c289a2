// CredentialsCollector: user and group ids, supplementary groups, capability sets and
// no_new_privs of a frozen process (refusing threads whose credentials differ).
#include "dump/CredentialsCollector.h"

#include <google/protobuf/util/message_differencer.h>
#include <charconv>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "dump/DumpContext.h"

namespace cryo {

img::Credentials CredentialsCollector::fromStatus(const std::string& statusPath) {
  return fromStatus(ProcFs::status(statusPath));
}

img::Credentials CredentialsCollector::fromStatus(const std::map<std::string, std::string>& status) {
  auto st = [&](const char* key) -> const std::string& {
    static const std::string kNone;
    auto it = status.find(key);
    return it == status.end() ? kNone : it->second;
  };
  img::Credentials c;
  auto ids = [&](const char* key, auto add) {
    const std::string& text = st(key);
    const char* at = text.data();
    const char* end = text.data() + text.size();
    for (;;) {
      while (at < end && (*at == ' ' || *at == '\t')) ++at;
      uint64_t v;
      auto r = std::from_chars(at, end, v);
      if (r.ec != std::errc{}) break;
      add(static_cast<uint32_t>(v));
      at = r.ptr;
    }
  };
  ids("Uid", [&](uint32_t v) { c.add_uids(v); });
  ids("Gid", [&](uint32_t v) { c.add_gids(v); });
  ids("Groups", [&](uint32_t v) { c.add_groups(v); });
  auto hex = [&](const char* key) { return std::strtoull(st(key).c_str(), nullptr, 16); };
  c.set_cap_inh(hex("CapInh"));
  c.set_cap_prm(hex("CapPrm"));
  c.set_cap_eff(hex("CapEff"));
  c.set_cap_bnd(hex("CapBnd"));
  c.set_cap_amb(hex("CapAmb"));
  c.set_no_new_privs(st("NoNewPrivs") == "1");
  return c;
}

void CredentialsCollector::collect(DumpContext& ctx, img::Process& out) {
  pid_t pid = ctx.pid();
  *out.mutable_creds() = fromStatus(ctx.status());
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
