/*
 * loadgen: the two load shapes bench/scan.sh needs and Debian's tools lack.
 *
 *   rate mode: open-loop HTTP/1.1 GETs at a fixed total rate over C
 *   keep-alive connections, each request the next path of a file (so every
 *   scan hits a different code), printing latency percentiles.
 *   idle mode: N connections that each send one GET, read the answer and then
 *   stay open and silent until the process is killed.
 *   watch mode: no network; spins for -d seconds reading CLOCK_MONOTONIC and
 *   reports every gap longer than -g ms (default 4), that is every time
 *   this thread got no CPU for that long. Run at nice 19 next to a load it
 *   takes nothing from; on a VM whose host throttles it, the gaps all end at
 *   the same instant of each throttling period, which it prints as
 *   end_phase_ms (the median of gap ends modulo -P ms, default 100).
 *   flush mode: no network; writes -s bytes (default 4096) and fdatasyncs
 *   them, -r times a second (0: back to back) for -d seconds, into a new
 *   file -f of 64 MiB that it fills with zeros and syncs first, so that
 *   each sync is an overwrite (no block allocation, no journal commit);
 *   prints the sync latency percentiles. With burn and watch beside it,
 *   it shows whether this machine stops its CPUs when the disk is kept
 *   busy (bench/host.sh).
 *   burn mode: keeps a CPU busy for -u percent (default 60) of every
 *   millisecond, for -d seconds: a stand-in for a server under load.
 *
 * Why not wrk or h2load: wrk is closed-loop (it sends as fast as answers
 * come back, so its percentiles describe saturation, not a given rate) and
 * h2load 1.52 prints no percentiles and walks the same URI list from every
 * client, so 32 clients would scan each code 32 times.
 *
 * Latency is measured from the time a request was *scheduled* (t0 + i/rate),
 * not from when it was written, the way wrk2 does: if the server stalls and
 * requests queue up behind busy connections, the wait counts against it
 * instead of silently lowering the offered rate (coordinated omission).
 * Timeouts use epoll_pwait2 so the schedule is kept to microseconds rather
 * than epoll_wait's whole milliseconds. The first --warmup seconds are sent
 * but not recorded.
 *
 * Responses are parsed just enough for keep-alive: status line, headers up
 * to the blank line, Content-Length bytes of body. Anything else (chunked,
 * no length, a close) is an error and the connection is reopened.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HDR_MAX 16384

struct conn {
	int fd;
	int busy;		/* a request is in flight */
	int connected;
	long req;		/* index of the request in flight */
	double sched;		/* its scheduled send time */
	char hdr[HDR_MAX];	/* response bytes until the header end */
	size_t hlen;
	long need;		/* body bytes still to read, -1 = in headers */
	int status;
	char *out;		/* unsent request bytes */
	size_t outlen, outoff;
};

static const char *host = "127.0.0.1";
static int port;
static char **paths;
static long npaths;
static const char *extra_hdrs = "";
static struct sockaddr_in addr;
static int ep;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	perror(what);
	exit(2);
}

static void
load_paths(const char *file)
{
	FILE *f = fopen(file, "r");
	char line[4096];
	long cap = 1024;

	if (f == NULL)
		die(file);
	paths = malloc(cap * sizeof *paths);
	while (fgets(line, sizeof line, f) != NULL) {
		size_t n = strcspn(line, "\r\n");
		if (n == 0)
			continue;
		line[n] = '\0';
		if (npaths == cap) {
			cap *= 2;
			paths = realloc(paths, cap * sizeof *paths);
		}
		paths[npaths++] = strdup(line);
	}
	fclose(f);
	if (npaths == 0) {
		fprintf(stderr, "loadgen: no paths in %s\n", file);
		exit(2);
	}
}

static void
conn_open(struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		die("socket");
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0 &&
	    errno != EINPROGRESS)
		die("connect");
	c->connected = 0;
	c->busy = 0;
	c->hlen = 0;
	c->need = -1;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		die("epoll_ctl");
}

static void
conn_close(struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	c->out = NULL;
	c->fd = -1;
}

static void
conn_flush(struct conn *c)
{
	while (c->out != NULL && c->outoff < c->outlen) {
		ssize_t n = write(c->fd, c->out + c->outoff,
		    c->outlen - c->outoff);
		if (n < 0) {
			if (errno == EAGAIN)
				return;
			return;	/* the read side sees the error */
		}
		c->outoff += n;
	}
	free(c->out);
	c->out = NULL;
}

static void
conn_send(struct conn *c, long req, double sched)
{
	const char *p = paths[req % npaths];

	c->outlen = asprintf(&c->out,
	    "GET %s HTTP/1.1\r\nHost: %s:%d\r\n%s\r\n", p, host, port,
	    extra_hdrs);
	c->outoff = 0;
	c->busy = 1;
	c->req = req;
	c->sched = sched;
	c->hlen = 0;
	c->need = -1;
	if (c->connected)
		conn_flush(c);
}

/* Feeds read bytes to the parser; returns 1 when a full response is in,
 * 0 when more is needed, -1 on a response we cannot frame. */
static int
conn_parse(struct conn *c, const char *buf, size_t n)
{
	if (c->need < 0) {
		size_t take = n < HDR_MAX - 1 - c->hlen ? n : HDR_MAX - 1 - c->hlen;
		char *end, *cl;

		memcpy(c->hdr + c->hlen, buf, take);
		c->hlen += take;
		c->hdr[c->hlen] = '\0';
		end = strstr(c->hdr, "\r\n\r\n");
		if (end == NULL)
			return c->hlen >= HDR_MAX - 1 ? -1 : 0;
		if (sscanf(c->hdr, "HTTP/1.%*d %d", &c->status) != 1)
			return -1;
		*end = '\0';
		cl = strcasestr(c->hdr, "\r\ncontent-length:");
		if (cl == NULL)
			return -1;
		c->need = atol(cl + 17);
		/* body bytes that came with the headers */
		c->need -= (long)(c->hlen - (end + 4 - c->hdr));
		return c->need <= 0 ? 1 : 0;
	}
	c->need -= (long)n;
	return c->need <= 0 ? 1 : 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(double *v, long n, double p)
{
	long i = (long)(p / 100.0 * n);

	if (n == 0)
		return 0;
	return v[i >= n ? n - 1 : i];
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: loadgen rate -p PORT -c CONNS -r RPS -d SECONDS -f PATHS "
	    "[-w WARMUP] [-H 'Name: value']...\n"
	    "       loadgen idle -p PORT -n CONNS -f PATHS [-H ...]\n"
	    "       loadgen watch -d SECONDS [-g GAP_MS] [-P PERIOD_MS]\n"
	    "       loadgen flush -f NEWFILE -d SECONDS [-s BYTES] [-r PER_SEC]\n"
	    "       loadgen burn -d SECONDS [-u PERCENT]\n"
	    "  rate: prints 'sent=N done=N errors=N rps=R p50_ms=.. p90_ms=.. "
	    "p99_ms=.. p999_ms=.. max_ms=.. reconnects=N'\n"
	    "  idle: prints 'ready conns=N errors=N' once every answer is in, "
	    "then holds the connections until killed\n"
	    "  watch: prints 'gaps=N over_ms=G total_ms=T max_ms=M "
	    "end_phase_ms=E'\n"
	    "  flush: prints 'flushes=N rate=R p50_ms=.. p90_ms=.. p99_ms=.. "
	    "max_ms=..'\n");
	exit(2);
}

static int
run_rate(int nconns, double rate, double secs, double warm)
{
	struct conn *cs = calloc(nconns, sizeof *cs);
	int *idle = malloc(nconns * sizeof *idle), nidle = 0;
	long total = (long)(rate * (secs + warm)), next = 0, done = 0,
	    errors = 0, nlat = 0, recorded_from = (long)(rate * warm),
	    reconnects = 0;
	double *lat = malloc((total + 1) * sizeof *lat), t0, t, maxl = 0;
	struct epoll_event evs[256];
	char buf[65536];
	int i;

	for (i = 0; i < nconns; i++)
		conn_open(&cs[i]);
	/* let the connections finish their handshakes before the clock starts */
	for (t = now(); now() - t < 2;) {
		int n = epoll_wait(ep, evs, 256, 100), k, up = 0;

		for (k = 0; k < n; k++) {
			struct conn *c = evs[k].data.ptr;
			struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

			c->connected = 1;
			epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
		}
		for (k = 0; k < nconns; k++)
			up += cs[k].connected;
		if (up == nconns)
			break;
	}
	for (i = 0; i < nconns; i++)
		if (cs[i].connected)
			idle[nidle++] = i;
	t0 = now();
	while (next < total || nidle < nconns) {
		double due, wait;
		struct timespec ts;
		int n, k;

		t = now();
		while (next < total && nidle > 0 &&
		    (due = t0 + next / rate) <= t) {
			conn_send(&cs[idle[--nidle]], next, due);
			next++;
		}
		if (t - t0 > secs + warm + 5)
			break;	/* stragglers: give up on them */
		wait = next < total && nidle > 0 ? t0 + next / rate - t : 0.05;
		if (wait < 0)
			wait = 0;
		ts.tv_sec = (time_t)wait;
		ts.tv_nsec = (long)((wait - ts.tv_sec) * 1e9);
		n = epoll_pwait2(ep, evs, 256, &ts, NULL);
		for (k = 0; k < n; k++) {
			struct conn *c = evs[k].data.ptr;
			int idx = (int)(c - cs), r = 0;
			ssize_t got;

			if (!c->connected) {
				struct epoll_event ev = { .events = EPOLLIN,
					.data.ptr = c };

				c->connected = 1;
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
				if (c->busy)
					conn_flush(c);
				else
					idle[nidle++] = idx;
				continue;
			}
			if (c->out != NULL)
				conn_flush(c);
			while ((got = read(c->fd, buf, sizeof buf)) > 0) {
				r = c->busy ? conn_parse(c, buf, got) : -1;
				if (r != 0)
					break;
			}
			if (r == 1) {
				double l = now() - c->sched;

				done++;
				if (c->status != 200)
					errors++;
				if (c->req >= recorded_from) {
					lat[nlat++] = l;
					if (l > maxl)
						maxl = l;
				}
				c->busy = 0;
				idle[nidle++] = idx;
			} else if (r < 0 || got == 0 ||
			    (got < 0 && errno != EAGAIN)) {
				if (c->busy) {
					errors++, done++;
				} else {
					/*
					 * An idle connection the server
					 * closed: out of the idle list, it
					 * goes back in once reconnected.
					 */
					for (i = 0; i < nidle; i++)
						if (idle[i] == idx) {
							idle[i] = idle[--nidle];
							break;
						}
				}
				conn_close(c);
				conn_open(c);
				reconnects++;
			}
		}
	}
	t = now() - t0;
	qsort(lat, nlat, sizeof *lat, cmp_double);
	printf("sent=%ld done=%ld errors=%ld rps=%.0f p50_ms=%.3f p90_ms=%.3f "
	    "p99_ms=%.3f p999_ms=%.3f max_ms=%.3f reconnects=%ld\n", next,
	    done, errors, done / t, pct(lat, nlat, 50) * 1e3,
	    pct(lat, nlat, 90) * 1e3, pct(lat, nlat, 99) * 1e3,
	    pct(lat, nlat, 99.9) * 1e3, maxl * 1e3, reconnects);
	return done == total && errors == 0 ? 0 : 1;
}

static int
run_watch(double secs, double gap_ms, double period_ms)
{
	double t0 = now(), prev = t0, t, total = 0, maxg = 0;
	double *ends = NULL;
	long n = 0, cap = 0;

	while ((t = now()) - t0 < secs) {
		double g = t - prev;

		if (g * 1e3 > gap_ms) {
			if (n == cap) {
				cap = cap ? 2 * cap : 256;
				if ((ends = realloc(ends, cap * sizeof *ends)) == NULL)
					die("realloc");
			}
			/* where in the period the gap ended, in whole µs */
			ends[n++] = (double)((long long)(t * 1e6) %
			    (long long)(period_ms * 1e3)) / 1e3;
			total += g;
			if (g > maxg)
				maxg = g;
		}
		prev = t;
	}
	if (n > 0)
		qsort(ends, n, sizeof *ends, cmp_double);
	printf("gaps=%ld over_ms=%g total_ms=%.1f max_ms=%.2f end_phase_ms=", n,
	    gap_ms, total * 1e3, maxg * 1e3);
	if (n > 0)
		printf("%.1f\n", ends[n / 2]);
	else
		printf("-\n");
	fflush(stdout);
	free(ends);
	return 0;
}

#define FLUSH_FILE_BYTES	((off_t)64 << 20)

static int
run_flush(const char *file, size_t size, double rate, double secs)
{
	long cap = (long)((rate > 0 ? rate : 20000) * secs) + 16, n = 0;
	size_t step = (size + 4095) / 4096 * 4096;
	double *lat, t0, t, next, maxl = 0;
	off_t off = 0;
	char *buf;
	int fd;

	if (size == 0 || step > (size_t)FLUSH_FILE_BYTES)
		usage();
	if ((lat = malloc(cap * sizeof *lat)) == NULL ||
	    (buf = calloc(1, step > 1 << 20 ? step : 1 << 20)) == NULL)
		die("malloc");
	if ((fd = open(file, O_RDWR | O_CREAT | O_EXCL, 0600)) < 0)
		die(file);
	for (off = 0; off < FLUSH_FILE_BYTES; off += 1 << 20)
		if (pwrite(fd, buf, 1 << 20, off) != 1 << 20) {
			unlink(file);
			die("pwrite");
		}
	if (fsync(fd) != 0) {
		unlink(file);
		die("fsync");
	}
	memset(buf, 'x', size);
	off = 0;
	t0 = next = now();
	while ((t = now()) - t0 < secs && n < cap) {
		if (rate > 0) {
			next += 1 / rate;
			if (next > t) {
				struct timespec z = { 0, (long)((next - t) * 1e9) };

				nanosleep(&z, NULL);
			}
			t = now();
		}
		if (pwrite(fd, buf, size, off) != (ssize_t)size ||
		    fdatasync(fd) != 0) {
			unlink(file);
			die("write");
		}
		lat[n] = now() - t;
		if (lat[n] > maxl)
			maxl = lat[n];
		n++;
		off += (off_t)step;
		if (off + (off_t)step > FLUSH_FILE_BYTES)
			off = 0;
	}
	t = now() - t0;
	close(fd);
	unlink(file);
	qsort(lat, n, sizeof *lat, cmp_double);
	printf("flushes=%ld rate=%.0f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f "
	    "max_ms=%.3f\n", n, n / t, pct(lat, n, 50) * 1e3,
	    pct(lat, n, 90) * 1e3, pct(lat, n, 99) * 1e3, maxl * 1e3);
	fflush(stdout);
	free(lat);
	free(buf);
	return 0;
}

static int
run_burn(double secs, double percent)
{
	double t0 = now(), t;

	while ((t = now()) - t0 < secs) {
		double ms = (t - t0) * 1e3, phase = ms - (long long)ms;

		if (phase * 100 >= percent) {
			struct timespec z = { 0, (long)((1 - phase) * 1e6) };

			nanosleep(&z, NULL);
		}
	}
	return 0;
}

static int
run_idle(int nconns)
{
	struct conn *cs = calloc(nconns, sizeof *cs);
	struct epoll_event evs[256];
	char buf[65536];
	long answered = 0, errors = 0;
	int opened = 0, inflight = 0;
	double start = now();

	/* open in waves of 256 so the listen backlog never overflows */
	while (answered + errors < nconns && now() - start < 60) {
		int n, k;

		while (opened < nconns && inflight < 256) {
			conn_open(&cs[opened]);
			conn_send(&cs[opened], opened, now());
			opened++;
			inflight++;
		}
		n = epoll_wait(ep, evs, 256, 100);
		for (k = 0; k < n; k++) {
			struct conn *c = evs[k].data.ptr;
			ssize_t got;
			int r = 0;

			if (!c->connected) {
				struct epoll_event ev = { .events = EPOLLIN,
					.data.ptr = c };

				c->connected = 1;
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
				conn_flush(c);
				continue;
			}
			if (!c->busy)
				continue;
			while ((got = read(c->fd, buf, sizeof buf)) > 0)
				if ((r = conn_parse(c, buf, got)) != 0)
					break;
			if (r == 1 && c->status == 200) {
				c->busy = 0;
				answered++;
				inflight--;
			} else if (r != 0 || got == 0 ||
			    (got < 0 && errno != EAGAIN)) {
				c->busy = 0;
				errors++;
				inflight--;
			}
		}
	}
	printf("ready conns=%ld errors=%ld\n", answered, errors);
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}

int
main(int argc, char **argv)
{
	const char *mode, *file = NULL;
	int nconns = 32, opt;
	double rate = 1000, secs = 10, warm = 1, gap_ms = 4, period_ms = 100;
	double flush_rate = 0, busy = 60;
	long size = 4096;
	size_t hcap = 1;
	char *hdrs = calloc(1, 1);

	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "p:c:n:r:d:f:w:H:h:g:P:s:u:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'c': case 'n': nconns = atoi(optarg); break;
		case 'r': rate = flush_rate = atof(optarg); break;
		case 's': size = atol(optarg); break;
		case 'u': busy = atof(optarg); break;
		case 'd': secs = atof(optarg); break;
		case 'w': warm = atof(optarg); break;
		case 'f': file = optarg; break;
		case 'h': host = optarg; break;
		case 'g': gap_ms = atof(optarg); break;
		case 'P': period_ms = atof(optarg); break;
		case 'H':
			hcap += strlen(optarg) + 2;
			hdrs = realloc(hdrs, hcap);
			strcat(hdrs, optarg);
			strcat(hdrs, "\r\n");
			break;
		default: usage();
		}
	}
	if (strcmp(mode, "watch") == 0 || strcmp(mode, "flush") == 0 ||
	    strcmp(mode, "burn") == 0)
		free(hdrs);	/* no requests in these modes */
	if (strcmp(mode, "watch") == 0) {
		if (secs <= 0 || gap_ms <= 0 || period_ms <= 0)
			usage();
		return run_watch(secs, gap_ms, period_ms);
	}
	if (strcmp(mode, "flush") == 0) {
		if (file == NULL || secs <= 0 || size <= 0 || flush_rate < 0)
			usage();
		return run_flush(file, (size_t)size, flush_rate, secs);
	}
	if (strcmp(mode, "burn") == 0) {
		if (secs <= 0 || busy <= 0 || busy > 100)
			usage();
		return run_burn(secs, busy);
	}
	if (port <= 0 || file == NULL || nconns <= 0 || rate <= 0)
		usage();
	extra_hdrs = hdrs;
	signal(SIGPIPE, SIG_IGN);
	load_paths(file);
	addr.sin_family = AF_INET;
	addr.sin_port = htons(port);
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
		usage();
	ep = epoll_create1(0);
	if (ep < 0)
		die("epoll_create1");
	if (strcmp(mode, "rate") == 0)
		return run_rate(nconns, rate, secs, warm);
	if (strcmp(mode, "idle") == 0)
		return run_idle(nconns);
	usage();
	return 2;
}
