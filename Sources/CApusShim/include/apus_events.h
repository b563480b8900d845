/*
 * `apus events` (Lifecycle/Events.swift, Cgroups/OOMWatcher.swift): the
 * eventfd and timerfd calls Glibc's Swift module does not show.
 */
#ifndef APUS_EVENTS_H
#define APUS_EVENTS_H

#include <stdint.h>

/* eventfd(0, EFD_CLOEXEC|EFD_NONBLOCK). */
int apus_eventfd(void);
/* A CLOCK_MONOTONIC timerfd (close-on-exec, non-blocking) firing every interval_ns, first after one interval. */
int apus_timerfd_periodic(int64_t interval_ns);
/* One 8-byte read of an eventfd or timerfd: its count, 0 when nothing is pending (EAGAIN), -1 on error. */
int64_t apus_read_counter(int fd);

#endif
