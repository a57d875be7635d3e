/* tests/interop/probe_io.h: socket helpers shared by the libtorrent probes (mse_probe.c,
 * meta_probe.c): one TCP connection on 127.0.0.1, dialled or accepted, and a blocking write. */
#ifndef PROBE_IO_H
#define PROBE_IO_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* dial: connects to 127.0.0.1:|port|. Otherwise listens on |port| (0: any), prints
 * "listening PORT" on stdout and accepts one connection. The socket, or -1. */
static int open_socket(bool dial, int port)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(0x7f000001);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (dial)
        return connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? fd : -1;
    socklen_t sl = sizeof(sa);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 1) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
        return -1;
    printf("listening %d\n", ntohs(sa.sin_port));
    fflush(stdout);
    int c = accept(fd, NULL, NULL);
    close(fd);
    return c;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

#endif
