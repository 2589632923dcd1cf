// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * vfg-slowclients: slow HTTP clients for the guest tests of serve under abuse. Opens COUNT TCP
 * connections from SRC to ADDR:PORT, sends each the first line of a request, prints "held N"
 * once they are open, then for SECONDS sends each one more header byte every second (a slow
 * client that never times out) and exits.
 *
 *   vfg-slowclients SRC ADDR PORT COUNT SECONDS
 *
 * A connection the server refuses or closes at once is counted, not an error: the server may
 * limit them. Exit status 0, 2 for bad usage or when nothing at all could be opened.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* One more byte of a header that never ends, to each connection. */
static void trickle(const int *fds, int n)
{
	for (int i = 0; i < n; i++)
		send(fds[i], "X", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
}

int main(int argc, char **argv)
{
	static const char line[] = "GET /metrics HTTP/1.1\r\n";
	struct sockaddr_in src = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET };
	struct rlimit rl = { 65536, 65536 };
	int count, seconds, held = 0, refused = 0, *fds;
	time_t last = time(NULL);

	if (argc != 6 || inet_pton(AF_INET, argv[1], &src.sin_addr) != 1 ||
	    inet_pton(AF_INET, argv[2], &dst.sin_addr) != 1 || (count = atoi(argv[4])) <= 0 ||
	    (seconds = atoi(argv[5])) < 0) {
		fprintf(stderr, "usage: vfg-slowclients SRC ADDR PORT COUNT SECONDS\n");
		return 2;
	}
	dst.sin_port = htons(atoi(argv[3]));
	setrlimit(RLIMIT_NOFILE, &rl);
	fds = calloc(count, sizeof(*fds));
	if (!fds)
		return 2;
	for (int i = 0; i < count; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0) {
			fprintf(stderr, "vfg-slowclients: socket %d: %s\n", i, strerror(errno));
			return 2;
		}
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) ||
		    connect(fd, (struct sockaddr *)&dst, sizeof(dst)) ||
		    send(fd, line, sizeof(line) - 1, MSG_NOSIGNAL) < 0) {
			refused++;
			close(fd);
			continue;
		}
		fds[held++] = fd;
		/* Opening them all can take longer than the server's timeout: keep them alive. */
		if (time(NULL) != last) {
			last = time(NULL);
			trickle(fds, held);
		}
	}
	printf("held %d refused %d\n", held, refused);
	fflush(stdout);
	if (!held)
		return 2;
	for (int t = 0; t < seconds; t++) {
		sleep(1);
		trickle(fds, held);
	}
	return 0;
}
