#define _GNU_SOURCE
#include "apus_events.h"

#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

int apus_eventfd(void)
{
    return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

int apus_timerfd_periodic(int64_t interval_ns)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (fd < 0)
        return -1;
    struct itimerspec spec = {
        .it_interval = { .tv_sec = interval_ns / 1000000000, .tv_nsec = interval_ns % 1000000000 },
        .it_value = { .tv_sec = interval_ns / 1000000000, .tv_nsec = interval_ns % 1000000000 },
    };
    if (timerfd_settime(fd, 0, &spec, NULL) < 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

int64_t apus_read_counter(int fd)
{
    uint64_t value = 0;
    ssize_t n = read(fd, &value, sizeof(value));
    if (n == (ssize_t)sizeof(value))
        return (int64_t)(value > INT64_MAX ? INT64_MAX : value);
    if (n < 0 && errno == EAGAIN)
        return 0;
    return -1;
}
