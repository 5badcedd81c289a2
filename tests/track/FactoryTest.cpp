// FactoryTest: what `cryo check` says, how a backend is picked or forced (CRYO_TRACKER), the
// kernel feature probes, and which mappings are tracked.
#include <cstdlib>

#include <gtest/gtest.h>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "track/KernelFeatures.h"
#include "track/MappingPolicy.h"
#include "track/TrackerFactory.h"

namespace cryo::test {

namespace {

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (had_)
      ::setenv(name_, old_.c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

MapsEntry entry(const std::string& path, bool write, bool shared,
                std::set<std::string> flags = {"rd", "mr", "mw", "me"}) {
  MapsEntry m;
  m.start = 0x10000;
  m.end = 0x20000;
  m.read = true;
  m.write = write;
  m.shared = shared;
  m.path = path;
  for (const std::string& f : flags) m.vmFlags.insert(f);
  return m;
}

}  // namespace

TEST(TrackerFactory, report_names_every_backend_and_the_pick) {
  ScopedEnv env(TrackerFactory::kEnv, nullptr);
  auto lines = TrackerFactory::reportLines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].rfind("uffd-wp: ", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1].rfind("soft-dirty: ", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind("hash: available", 0), 0u) << lines[2];
  std::string best;
  for (const auto& b : TrackerFactory::backends())
    if (b.available && best.empty()) best = b.name;
  EXPECT_EQ(lines[3], "picked: " + best);
  EXPECT_EQ(TrackerFactory::pick(), best);
  for (const auto& l : lines) std::printf("    %s\n", l.c_str());
  EXPECT_EQ(TrackerFactory::report().back(), '\n');
}

TEST(TrackerFactory, environment_forces_a_backend) {
  {
    ScopedEnv env(TrackerFactory::kEnv, "hash");
    EXPECT_EQ(TrackerFactory::pick(), "hash");
    auto t = TrackerFactory::create("");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->name(), "hash");
    EXPECT_EQ(TrackerFactory::reportLines().back(), "picked: hash (forced by CRYO_TRACKER)");
    // A name given by the caller (--tracker) wins over the environment.
    auto u = TrackerFactory::create("hash");
    EXPECT_EQ(u->name(), "hash");
  }
  {
    ScopedEnv env(TrackerFactory::kEnv, "no-such-thing");
    EXPECT_THROW(TrackerFactory::pick(), Error);
    EXPECT_THROW(TrackerFactory::create(""), Error);
    EXPECT_EQ(TrackerFactory::reportLines().back().rfind("picked: none (", 0), 0u);
  }
  for (const auto& b : TrackerFactory::backends()) {
    ScopedEnv env(TrackerFactory::kEnv, b.name.c_str());
    if (b.available) {
      EXPECT_EQ(TrackerFactory::create("")->name(), b.name);
      continue;
    }
    try {
      TrackerFactory::create("");
      ADD_FAILURE() << "forcing unavailable " << b.name << " must fail";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("unavailable"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(b.detail), std::string::npos) << e.what();
    }
    EXPECT_THROW(TrackerFactory::create(b.name), Error);
  }
}

TEST(TrackerFactory, none_means_no_tracker) {
  EXPECT_EQ(TrackerFactory::create("none"), nullptr);
  EXPECT_THROW(TrackerFactory::create("bogus"), Error);
}

TEST(KernelFeatures, probes_agree_with_each_other) {
  const KernelFeatures& k = KernelFeatures::get();
  std::printf("    userfaultfd %d, features %#llx, WP_ASYNC %d, WP_UNPOPULATED %d, PAGEMAP_SCAN %d, "
              "uffd-wp tracking %d (%s); soft-dirty %d (%s)\n",
              k.userfaultfd(), static_cast<unsigned long long>(k.uffdFeatures()), k.uffdWpAsync(),
              k.uffdWpUnpopulated(), k.pagemapScan(), k.uffdWpTracking(), k.uffdWpDetail().c_str(),
              k.softDirty(), k.softDirtyDetail().c_str());
  if (k.uffdWpTracking()) {
    EXPECT_TRUE(k.userfaultfd());
    EXPECT_TRUE(k.uffdWpAsync());
    EXPECT_TRUE(k.pagemapScan());
  }
  if (k.uffdWpAsync()) {
    EXPECT_TRUE(k.userfaultfd());
  }
  EXPECT_FALSE(k.uffdWpDetail().empty());
  EXPECT_FALSE(k.softDirtyDetail().empty());
  // The kernel's build configuration, where it is published, agrees with the soft-dirty probe.
  std::string release = ProcFs::readFile("/proc/sys/kernel/osrelease");
  while (!release.empty() && release.back() == '\n') release.pop_back();
  if (auto config = ProcFs::tryReadFile("/boot/config-" + release)) {
    bool built = config->find("\nCONFIG_MEM_SOFT_DIRTY=y") != std::string::npos;
    EXPECT_EQ(k.softDirty(), built);
  }
}

TEST(MappingPolicy, classifies_mappings) {
  using K = MappingKind;
  EXPECT_EQ(MappingPolicy::classify(entry("", true, false)), K::kPrivateAnon);
  EXPECT_EQ(MappingPolicy::classify(entry("", false, false)), K::kPrivateAnon);  // PROT_NONE guard
  EXPECT_EQ(MappingPolicy::classify(entry("[heap]", true, false)), K::kPrivateAnon);
  EXPECT_EQ(MappingPolicy::classify(entry("[stack]", true, false)), K::kPrivateAnon);
  EXPECT_EQ(MappingPolicy::classify(entry("[anon:buffers]", true, false)), K::kPrivateAnon);
  EXPECT_EQ(MappingPolicy::classify(entry("/dev/zero", true, false)), K::kPrivateAnon);
  EXPECT_EQ(MappingPolicy::classify(entry("/dev/zero (deleted)", true, true)), K::kSharedAnon);
  EXPECT_EQ(MappingPolicy::classify(entry("[anon_shmem:x]", true, true)), K::kSharedAnon);
  EXPECT_EQ(MappingPolicy::classify(entry("/usr/lib/libc.so.6", true, false)), K::kPrivateFile);
  EXPECT_EQ(MappingPolicy::classify(entry("/usr/lib/libc.so.6", false, false)), K::kPrivateFile);
  EXPECT_EQ(MappingPolicy::classify(entry("/data/file", true, true)), K::kUntracked);
  EXPECT_EQ(MappingPolicy::classify(entry("[vdso]", false, false)), K::kUntracked);
  EXPECT_EQ(MappingPolicy::classify(entry("[vvar]", false, false)), K::kUntracked);
  EXPECT_EQ(MappingPolicy::classify(entry("[vvar_vclock]", false, false)), K::kUntracked);
  EXPECT_EQ(MappingPolicy::classify(entry("[vsyscall]", false, false)), K::kUntracked);
  EXPECT_EQ(MappingPolicy::classify(entry("/dev/mem", true, false, {"rd", "wr", "io", "pf"})),
            K::kUntracked);
  // A private file mapping that can never be written holds nothing but the file.
  EXPECT_EQ(MappingPolicy::classify(entry("/data/file", false, false, {"rd", "mr"})), K::kUntracked);
}

}  // namespace cryo::test
