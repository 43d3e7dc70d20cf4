/* Internal: storage class for per-thread state (the failure detail, the
 * context of qsort comparators). A build for a target without thread-local
 * storage (CLH_THREAD_LOCAL_DETAIL=OFF, the default on bare metal, where
 * GCC's TLS needs __aeabi_read_tp from an operating system) has one copy for
 * the whole program instead: such a program calls clheads from one thread,
 * as include/clheads/status.h says. */
#ifndef CLH_INTERNAL_THREAD_LOCAL_H
#define CLH_INTERNAL_THREAD_LOCAL_H

#ifdef CLH_NO_THREAD_LOCAL
#define CLH_THREAD_LOCAL
#else
#define CLH_THREAD_LOCAL _Thread_local
#endif

#endif
