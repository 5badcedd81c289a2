/* uapi_compat.h: the Linux 6.7+ UAPI (PAGEMAP_SCAN, userfaultfd WP_ASYNC) that Debian 12's headers lack, for bench/realtime. */
#ifndef CRYO_BENCH_REALTIME_UAPI_COMPAT_H
#define CRYO_BENCH_REALTIME_UAPI_COMPAT_H

#include <linux/fs.h>
#include <linux/ioctl.h>
#include <linux/types.h>
#include <linux/userfaultfd.h>

/* PAGEMAP_SCAN ioctl on /proc/PID/pagemap (linux/fs.h, Linux 6.7). */
#ifndef PAGEMAP_SCAN
#define PAGE_IS_WPALLOWED (1ULL << 0)
#define PAGE_IS_WRITTEN (1ULL << 1)
#define PAGE_IS_FILE (1ULL << 2)
#define PAGE_IS_PRESENT (1ULL << 3)
#define PAGE_IS_SWAPPED (1ULL << 4)
#define PAGE_IS_PFNZERO (1ULL << 5)
#define PAGE_IS_HUGE (1ULL << 6)
#define PAGE_IS_SOFT_DIRTY (1ULL << 7)

/* One run of pages [start, end) sharing the categories asked for. */
struct page_region {
  __u64 start;
  __u64 end;
  __u64 categories;
};

/* Operations besides the get. */
#define PM_SCAN_WP_MATCHING (1ULL << 0)   /* write-protect the pages that match */
#define PM_SCAN_CHECK_WPASYNC (1ULL << 1) /* fail on a page without async WP */

struct pm_scan_arg {
  __u64 size; /* sizeof(struct pm_scan_arg) */
  __u64 flags;
  __u64 start;
  __u64 end;
  __u64 walk_end; /* out: where the walk stopped */
  __u64 vec;      /* struct page_region array */
  __u64 vec_len;
  __u64 max_pages;
  __u64 category_inverted;
  __u64 category_mask;
  __u64 category_anyof_mask;
  __u64 return_mask;
};

#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif

/* userfaultfd features (linux/userfaultfd.h, Linux 6.4 and 6.7). */
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif

#endif
