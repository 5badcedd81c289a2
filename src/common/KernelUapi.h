/* KernelUapi: PAGEMAP_SCAN and userfaultfd features of Linux 6.4-6.7, which Debian 12's headers
 * lack; plain C, so the benchmark's C programs share it with cryo (see KernelCompat.h). */
#ifndef CRYO_COMMON_KERNEL_UAPI_H
#define CRYO_COMMON_KERNEL_UAPI_H

#include <linux/fs.h>
#include <linux/ioctl.h>
#include <linux/types.h>
#include <linux/userfaultfd.h>

// ---- PAGEMAP_SCAN (Linux 6.7) -------------------------------------------------------------
#ifndef PAGEMAP_SCAN
#define PAGE_IS_WPALLOWED (1ULL << 0)
#define PAGE_IS_WRITTEN (1ULL << 1)
#define PAGE_IS_FILE (1ULL << 2)
#define PAGE_IS_PRESENT (1ULL << 3)
#define PAGE_IS_SWAPPED (1ULL << 4)
#define PAGE_IS_PFNZERO (1ULL << 5)
#define PAGE_IS_HUGE (1ULL << 6)
#define PAGE_IS_SOFT_DIRTY (1ULL << 7)

struct page_region {
  __u64 start;
  __u64 end;
  __u64 categories;
};

#define PM_SCAN_WP_MATCHING (1ULL << 0)
#define PM_SCAN_CHECK_WPASYNC (1ULL << 1)

struct pm_scan_arg {
  __u64 size;
  __u64 flags;
  __u64 start;
  __u64 end;
  __u64 walk_end;
  __u64 vec;
  __u64 vec_len;
  __u64 max_pages;
  __u64 category_inverted;
  __u64 category_mask;
  __u64 category_anyof_mask;
  __u64 return_mask;
};

#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif

// ---- mapping features newer than 6.1 -------------------------------------------------------
#ifndef PAGE_IS_GUARD
#define PAGE_IS_GUARD (1ULL << 8) /* PAGEMAP_SCAN: a guard region page (Linux 6.14) */
#endif
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102 /* Linux 6.13 */
#define MADV_GUARD_REMOVE 103
#endif
#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08 /* Linux 6.11 */
#endif
#ifndef SYS_mseal
#define SYS_mseal 462 /* Linux 6.10 (x86_64 and arm64 numbers agree) */
#endif

// ---- userfaultfd features newer than 6.1 ---------------------------------------------------
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_FEATURE_POISON
#define UFFD_FEATURE_POISON (1 << 14)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
#ifndef UFFD_FEATURE_MOVE
#define UFFD_FEATURE_MOVE (1 << 16)
#endif

#endif
