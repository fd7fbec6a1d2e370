/*
 * tundelay - a user-space "wire" with a fixed one-way delay between two TUN
 * devices that live in two network namespaces.
 *
 * This machine's kernel has no netem, so the benchmark builds its simulated
 * round-trip time here: every IP packet the client namespace sends into its
 * TUN device is read by this process, held for DELAY_MS, and written into the
 * server namespace's TUN device, and the same in the other direction. Because
 * the delay is applied per IP packet (not per TCP stream), the TCP SYN,
 * SYN-ACK and ACK are delayed like the TLS records are, so connect() itself
 * costs one RTT, as on a real network. A stream relay cannot do that: it
 * accepts the TCP connection locally at once.
 *
 * The delay is the same for every packet, so each direction is a FIFO: the
 * packet at the head is always the next one due. One timerfd is armed for the
 * earliest head; no per-connection sleeping, no threads.
 *
 * Usage: tundelay NS_A DEV_A NS_B DEV_B DELAY_MS
 *   NS_x  a name under /var/run/netns (from `ip netns add`), or "-" for the
 *         namespace this process is in;
 *   DEV_x a persistent TUN device already created in that namespace
 *         (`ip tuntap add dev DEV mode tun`);
 *   DELAY_MS one-way delay in milliseconds (RTT/2), may be 0.
 * It prints "ready" on stdout once both devices are attached, and exits when
 * its standard input reaches end of file (its parent closed the pipe or died),
 * or on SIGTERM/SIGINT. On exit it prints packet counters on stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define SLOT_BYTES 2048u  /* > the 1500-byte MTU set on the devices */
#define QUEUE_SLOTS 16384u /* per direction; about 1,000 in flight at 80 ms */

typedef struct packet {
    int64_t due_ns;
    uint32_t len;
    unsigned char data[SLOT_BYTES];
} packet;

/* One direction of the wire: packets read from `from`, written to `to`. */
typedef struct lane {
    int from;
    int to;
    packet *ring;
    uint32_t head; /* next packet to send */
    uint32_t count;
    uint64_t forwarded;
    uint64_t dropped; /* ring full: TCP will retransmit */
    uint64_t write_errors;
} lane;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Opens /dev/net/tun from inside namespace `ns` and attaches to `dev`. The
 * TUN socket keeps the namespace it was opened in, so the process may return
 * to its own namespace afterwards. */
static int tun_attach(const char *ns, const char *dev)
{
    int self_ns = -1, target_ns = -1, fd = -1, rv = -1;
    struct ifreq ifr;

    if (strlen(dev) >= IFNAMSIZ) {
        fprintf(stderr, "tundelay: device name too long: %s\n", dev);
        return -1;
    }
    if (strcmp(ns, "-") != 0) {
        char path[512];
        int n = snprintf(path, sizeof path, "/var/run/netns/%s", ns);
        if (n < 0 || (size_t)n >= sizeof path) {
            fprintf(stderr, "tundelay: namespace name too long\n");
            goto done;
        }
        self_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        target_ns = open(path, O_RDONLY | O_CLOEXEC);
        if (self_ns < 0 || target_ns < 0) {
            perror("tundelay: open namespace");
            goto done;
        }
        if (setns(target_ns, CLONE_NEWNET) != 0) {
            perror("tundelay: setns");
            goto done;
        }
    }
    fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        perror("tundelay: open /dev/net/tun");
        goto done;
    }
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    memcpy(ifr.ifr_name, dev, strlen(dev) + 1);
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
        perror("tundelay: TUNSETIFF");
        goto done;
    }
    rv = fd;
    fd = -1;
done:
    if (self_ns >= 0 && setns(self_ns, CLONE_NEWNET) != 0) {
        perror("tundelay: setns back");
        if (rv >= 0)
            close(rv);
        rv = -1;
    }
    if (fd >= 0)
        close(fd);
    if (self_ns >= 0)
        close(self_ns);
    if (target_ns >= 0)
        close(target_ns);
    return rv;
}

/* Reads every packet waiting on l->from into the ring. */
static void lane_read(lane *l, int64_t delay_ns)
{
    for (;;) {
        packet scratch;
        packet *p;
        ssize_t n;

        if (l->count == QUEUE_SLOTS)
            p = &scratch; /* read and drop, so the device queue drains */
        else
            p = &l->ring[(l->head + l->count) % QUEUE_SLOTS];
        n = read(l->from, p->data, SLOT_BYTES);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                perror("tundelay: read");
            return;
        }
        if (p == &scratch) {
            l->dropped++;
            continue;
        }
        p->len = (uint32_t)n;
        p->due_ns = now_ns() + delay_ns;
        l->count++;
    }
}

/* Writes every packet that is due; returns the due time of the next one, or
 * -1 when the lane is empty. */
static int64_t lane_flush(lane *l, int64_t now)
{
    while (l->count > 0) {
        packet *p = &l->ring[l->head];
        if (p->due_ns > now)
            return p->due_ns;
        if (write(l->to, p->data, p->len) != (ssize_t)p->len)
            l->write_errors++; /* lost, as on a wire; TCP recovers */
        else
            l->forwarded++;
        l->head = (l->head + 1) % QUEUE_SLOTS;
        l->count--;
    }
    return -1;
}

static int arm(int tfd, int64_t due_a, int64_t due_b)
{
    struct itimerspec its;
    int64_t due;

    memset(&its, 0, sizeof its);
    if (due_a < 0 && due_b < 0)
        return timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL); /* disarm */
    if (due_a < 0)
        due = due_b;
    else if (due_b < 0)
        due = due_a;
    else
        due = due_a < due_b ? due_a : due_b;
    if (due <= 0)
        due = 1; /* a zero it_value would disarm */
    its.it_value.tv_sec = due / 1000000000;
    its.it_value.tv_nsec = due % 1000000000;
    return timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

int main(int argc, char **argv)
{
    int fd_a = -1, fd_b = -1, tfd = -1, ep = -1, rc = 1;
    lane ab, ba;
    int64_t delay_ns;
    char *end = NULL;
    long delay_ms;
    struct epoll_event ev;
    struct sigaction sa;

    memset(&ab, 0, sizeof ab);
    memset(&ba, 0, sizeof ba);
    if (argc != 6) {
        fprintf(stderr, "usage: tundelay NS_A DEV_A NS_B DEV_B DELAY_MS\n");
        return 2;
    }
    errno = 0;
    delay_ms = strtol(argv[5], &end, 10);
    if (errno != 0 || end == argv[5] || *end != '\0' || delay_ms < 0 || delay_ms > 10000) {
        fprintf(stderr, "tundelay: DELAY_MS must be 0..10000, got %s\n", argv[5]);
        return 2;
    }
    delay_ns = (int64_t)delay_ms * 1000000;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    ab.ring = calloc(QUEUE_SLOTS, sizeof(packet));
    ba.ring = calloc(QUEUE_SLOTS, sizeof(packet));
    if (ab.ring == NULL || ba.ring == NULL) {
        fprintf(stderr, "tundelay: out of memory\n");
        goto done;
    }
    fd_a = tun_attach(argv[1], argv[2]);
    if (fd_a < 0)
        goto done;
    fd_b = tun_attach(argv[3], argv[4]);
    if (fd_b < 0)
        goto done;
    ab.from = fd_a;
    ab.to = fd_b;
    ba.from = fd_b;
    ba.to = fd_a;

    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (tfd < 0 || ep < 0) {
        perror("tundelay: timerfd/epoll");
        goto done;
    }
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.fd = fd_a;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd_a, &ev) != 0)
        goto epoll_fail;
    ev.data.fd = fd_b;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd_b, &ev) != 0)
        goto epoll_fail;
    ev.data.fd = tfd;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) != 0)
        goto epoll_fail;
    ev.data.fd = STDIN_FILENO;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, STDIN_FILENO, &ev) != 0)
        goto epoll_fail;

    printf("ready\n");
    fflush(stdout);

    while (!stop_requested) {
        struct epoll_event evs[8];
        int n = epoll_wait(ep, evs, 8, -1);
        int64_t now;

        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("tundelay: epoll_wait");
            goto done;
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == fd_a) {
                lane_read(&ab, delay_ns);
            } else if (fd == fd_b) {
                lane_read(&ba, delay_ns);
            } else if (fd == tfd) {
                uint64_t expirations;
                if (read(tfd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
                    perror("tundelay: timerfd read");
            } else if (fd == STDIN_FILENO) {
                char buf[64];
                ssize_t r = read(STDIN_FILENO, buf, sizeof buf);
                if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
                    stop_requested = 1;
            }
        }
        now = now_ns();
        if (arm(tfd, lane_flush(&ab, now), lane_flush(&ba, now)) != 0) {
            perror("tundelay: timerfd_settime");
            goto done;
        }
    }
    rc = 0;
    goto done;
epoll_fail:
    perror("tundelay: epoll_ctl");
done:
    fprintf(stderr,
            "tundelay: a->b forwarded %llu dropped %llu write_errors %llu; "
            "b->a forwarded %llu dropped %llu write_errors %llu\n",
            (unsigned long long)ab.forwarded, (unsigned long long)ab.dropped,
            (unsigned long long)ab.write_errors, (unsigned long long)ba.forwarded,
            (unsigned long long)ba.dropped, (unsigned long long)ba.write_errors);
    if (ep >= 0)
        close(ep);
    if (tfd >= 0)
        close(tfd);
    if (fd_a >= 0)
        close(fd_a);
    if (fd_b >= 0)
        close(fd_b);
    free(ab.ring);
    free(ba.ring);
    return rc;
}
