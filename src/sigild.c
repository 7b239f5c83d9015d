/*
 * sigild.c - the server's main: flags, start-up order, signals, shutdown.
 *
 * Start-up opens the store and the keyring, starts the writer thread and
 * then the HTTP front; nothing is served before all of them are ready.
 * SIGTERM (or SIGINT) stops accepting, lets the writer commit and answer
 * everything already accepted, then exits 0; SIGHUP rereads the keyring.
 * Owns no state of its own beyond struct app, which lives on its stack
 * for the process lifetime.
 *
 * The top of the house: may call every layer's start-up and shutdown
 * (the route table is route.c's); never handles a request or touches a
 * row itself.
 */
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "sigil/content.h"
#include "sigil/lookup.h"
#include "sigil/links.h"
#include "sigil/dashboard.h"
#include "sigil/egress.h"
#include "sigil/geoip.h"
#include "sigil/wechat.h"
#include "sigil/http.h"
#include "sigil/keyring.h"
#include "sigil/log.h"
#include "sigil/message.h"
#include "sigil/http_job.h"
#include "sigil/loginguard.h"
#include "sigil/loyalty.h"
#include "sigil/page.h"
#include "sigil/payout.h"
#include "sigil/ratelimit.h"
#include "sigil/retention.h"
#include "sigil/route.h"
#include "sigil/stats.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "sigil/notify.h"
#include "sigil/webhook.h"
#include "sigil/writer.h"

static const char usage[] =
"usage: sigild [--data DIR] [--listen HOST:PORT] [--base-url URL]\n"
"              [--tls-cert FILE --tls-key FILE] [--trusted-proxy CIDR[,CIDR]]\n"
"              [--rate-limit N] [--api-rate-limit N] [--max-conns N]\n"
"              [--max-conns-per-addr N] [--timeout SECONDS]\n"
"              [--body-min-rate BYTES]\n"
"              [--login-rate N] [--otp-per-hour N] [--rate-v6-56]\n"
"              [--keyring FILE] [--web DIR]\n"
"              [--sms-webhook URL --sms-secret-file FILE]\n"
"              [--webhook-allow CIDR]... [--webhook-ca FILE]\n"
"              [--webhook-dns IP[:PORT]]\n"
"              [--wechat-api URL] [--wechat-open URL]\n"
"              [--wxpay-api URL]\n"
"              [--smtp URL --smtp-from ADDRESS [--smtp-user USER\n"
"               --smtp-password-file FILE] [--smtp-ca FILE]]\n"
"              [--geoip FILE] [--unbranded-retention DAYS]\n"
"              [--no-wal | --no-sync] [--quiet]\n"
"\n"
"  --data DIR          data directory made by `sigil init` (./data)\n"
"  --listen HOST:PORT  address to serve on (127.0.0.1:8080); port 0 picks one\n"
"  --base-url URL      public URL of this server, for logs and links; the GS1\n"
"                      resolver's root (else the listening address, never\n"
"                      the request's Host)\n"
"  --tls-cert/--tls-key  serve HTTPS natively with this PEM chain and key\n"
"  --trusted-proxy     believe X-Forwarded-For only from these addresses\n"
"  --rate-limit N      consumer requests/s per client address (20; 0 = off)\n"
"                      (a client is an IPv4 address or an IPv6 /64, for every\n"
"                      per-client limit: scans, logins, OTP sends and guesses)\n"
"  --api-rate-limit N  brand API requests/s per token (100; 0 = off)\n"
"  --rate-v6-56        also limit each IPv6 /56 as a whole, at 4x one client\n"
"  --login-rate N      dashboard logins/s from all clients together (10)\n"
"  --otp-per-hour N    login codes (SMS) sent per brand per hour (1000)\n"
"  --max-conns N       open connection cap (20000; lowered to fit the\n"
"                      descriptor limit); at the cap the connection that\n"
"                      has waited longest for a request is closed\n"
"  --max-conns-per-addr N  open connections per IPv4 address or IPv6 /64\n"
"                      (256; 0 = off; trusted proxies are exempt)\n"
"  --timeout S         idle/read timeout per connection, and the time a\n"
"                      whole request head may take, in seconds (10)\n"
"  --body-min-rate B   a request body must arrive at B bytes/s or more\n"
"                      on top of --timeout (4096; 0 = off)\n"
"  --geoip FILE        a MaxMind-format .mmdb (GeoLite2-City, DB-IP Lite City)\n"
"                      giving each scan the region (country, province, city)\n"
"                      of its address, marked low-confidence; without it\n"
"                      scans have no region\n"
"  --unbranded-retention DAYS  after DAYS, the scans that count for no\n"
"                      brand (unknown codes, forged tags naming no brand)\n"
"                      have their address cut to /24 or /48 and their\n"
"                      location deleted, as a brand's retention period\n"
"                      does for its own (0, the default: kept)\n"
"  --keyring FILE      keyring outside the data dir (DIR/keyring)\n"
"  --web DIR           templates and static files (next to the binary)\n"
"  --sms-webhook URL   POST login codes as {phone, text} to this http(s):// URL\n"
"                      (without it: demo mode, codes go to DIR/otp-outbox.log)\n"
"  --sms-secret-file FILE  shared secret (mode 0600, 32-256 printable chars)\n"
"                      signing each SMS gateway request like a webhook\n"
"                      (X-Sigil-Signature: v1=HMAC-SHA256); needed with\n"
"                      --sms-webhook\n"
"  --wechat-api URL    WeChat's API (default https://api.weixin.qq.com),\n"
"                      reached under the --webhook-allow policy\n"
"  --wechat-open URL   where consumers authorise in WeChat (default\n"
"                      https://open.weixin.qq.com)\n"
"  --wxpay-api URL     WeChat Pay's API for cash payouts (default\n"
"                      https://api.mch.weixin.qq.com), reached under the\n"
"                      --webhook-allow policy; callbacks come back to\n"
"                      --base-url's /wxpay/notify/BRAND\n"
"  --smtp URL          send alert e-mail through this server: smtp://HOST[:PORT]\n"
"                      (STARTTLS when offered; ?starttls=require insists) or\n"
"                      smtps://HOST[:PORT]; certificates are always checked\n"
"  --smtp-from ADDRESS  the sender of alert e-mail\n"
"  --smtp-user USER, --smtp-password-file FILE  AUTH PLAIN or LOGIN, only\n"
"                      under TLS (the file: mode 0600, the password on line 1)\n"
"  --smtp-ca FILE      also trust these PEM CA certificates for the server\n"
"  --webhook-allow CIDR  let webhooks and the SMS gateway reach this private\n"
"                      range (loopback, RFC 1918, ULA, ... are refused\n"
"                      otherwise; cloud metadata always); repeatable\n"
"  --webhook-ca FILE   also trust these PEM CA certificates for https\n"
"                      webhook and SMS gateway targets\n"
"  --webhook-dns IP[:PORT]  resolve webhook and SMS gateway names with\n"
"                      this DNS server instead of /etc/resolv.conf\n"
"  --no-wal            durable without the write-ahead log: LMDB syncs data and\n"
"                      meta page, two flushes per commit instead of one; the\n"
"                      log (the default, and what --wal asks for) is\n"
"                      described in docs/storage.md\n"
"  --no-sync           no fsync on commit: benchmarks only, loses scans\n"
"  --quiet             log warnings and errors only (none of the info\n"
"                      lines, such as listening=...)\n"
"\n"
"SIGTERM stops cleanly. SIGHUP rereads the keyring (keys made with `sigil key\n"
"new` are also found without it, on first use).\n";

struct shutdown_state {
	struct app	*app;
	struct event	*poll;
	int		stopping;
};

static void
shutdown_poll(evutil_socket_t fd, short what, void *arg)
{
	struct shutdown_state *sd = arg;
	struct timeval tv = { 0, 20000 };

	(void)fd;
	(void)what;
	if (writer_pending(sd->app->writer) == 0) {
		/* Everything accepted is committed and answered. */
		tv.tv_usec = 100000;
		event_base_loopexit(sd->app->base, &tv);
		return;
	}
	evtimer_add(sd->poll, &tv);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct shutdown_state *sd = arg;

	(void)what;
	if (sd->stopping)
		return;
	sd->stopping = 1;
	log_info("shutdown", "signal=%d pending=%u", (int)sig,
	    writer_pending(sd->app->writer));
	http_server_stop_accepting(sd->app->http);
	writer_drain(sd->app->writer);
	event_active(sd->poll, EV_TIMEOUT, 1);	/* the first poll, now */
}

static void
keyring_reloaded(int added, void *arg)
{
	const char *why = arg;

	if (added < 0)
		log_error("keyring_reload", "why=%s err=%s", why,
		    sigil_strerror(added));
	else
		log_info("keyring_reload", "why=%s added=%d", why, added);
}

/*
 * SIGHUP: read the keyring again for keys made since start-up (an
 * unknown key id in a scan also does, rate-limited; see keyring.c).
 */
static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct app *app = arg;

	(void)sig;
	(void)what;
	keyring_reloaded(keyring_reload(app->keyring), "sighup");
}

static int
web_dir_default(char *out, size_t size)
{
	char exe[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

	if (n > 0) {
		exe[n] = '\0';
		for (int up = 0; up < 4 && (slash = strrchr(exe, '/')); up++) {
			*slash = '\0';
			if (strlen(exe) + 20 > size)
				break;
			strcpy(out, exe);
			strcat(out, "/web/landing.html");
			if (access(out, R_OK) == 0) {
				out[strlen(exe) + 4] = '\0';
				return 0;
			}
		}
	}
	snprintf(out, size, "web");
	return 0;
}

/*
 * With trimming held back (malloc_keep), a burst that left a lot of heap
 * free (ten thousand connections answered at once) would keep it
 * resident for good. Once a second: if more than 8 MB of the heap is
 * free, give it back. Under steady load freed chunks are reused, the
 * free total stays small and this costs one mallinfo2 call. A
 * persistent timer: nothing to re-arm.
 */
static void
malloc_tidy(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
	if (mallinfo2().fordblks > (size_t)8 << 20)
		malloc_trim(1 << 20);
#endif
}

/*
 * evhttp turns reading off while it answers and back on after: with the
 * changelist those two epoll_ctl calls cancel out before the loop next
 * polls, instead of costing a system call each.
 */
static struct event_base *
base_new(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (cfg == NULL)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

/*
 * Every answer builds a 12 KB page in a fresh evbuffer chunk and frees it
 * a moment later. With glibc's defaults the freed top of the heap goes
 * back to the kernel (128 KB trim threshold) and the next page faults it
 * in again, zeroed: a sixth of a scan's time in a profile. Keeping up to
 * 8 MB of free heap (hundreds of requests' worth), and growing it 1 MB at
 * a time, ends that.
 */
static void
malloc_keep(void)
{
#ifdef M_TRIM_THRESHOLD
	mallopt(M_TRIM_THRESHOLD, 8 << 20);
	mallopt(M_TOP_PAD, 1 << 20);
#endif
}

static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * The SMS gateway's shared secret: the first line of path, which must be
 * a regular file nobody but the owner can read (like the keyring), of
 * 32 to LOYALTY_SMS_SECRET_MAX printable ASCII characters. 0 or -1 after
 * saying why on stderr.
 */
static int
secret_file_read(const char *path, char out[LOYALTY_SMS_SECRET_MAX + 1])
{
	char line[LOYALTY_SMS_SECRET_MAX + 3];
	struct stat st;
	FILE *f;
	size_t n;
	int ok = 0;

	if ((f = fopen(path, "re")) == NULL) {
		fprintf(stderr, "sigild: cannot open --sms-secret-file %s\n",
		    path);
		return -1;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		fprintf(stderr, "sigild: --sms-secret-file %s must be a regular "
		    "file of mode 0600 or 0400\n", path);
		fclose(f);
		return -1;
	}
	if (fgets(line, (int)sizeof line, f) != NULL) {
		n = strcspn(line, "\r\n");
		line[n] = '\0';
		ok = n >= 32 && n <= LOYALTY_SMS_SECRET_MAX;
		for (size_t i = 0; ok && i < n; i++)
			ok = line[i] > 0x20 && line[i] < 0x7f;
		if (ok)
			memcpy(out, line, n + 1);
	}
	explicit_bzero(line, sizeof line);
	fclose(f);
	if (!ok) {
		fprintf(stderr, "sigild: --sms-secret-file %s must hold 32 to %d "
		    "printable ASCII characters without blanks on its first "
		    "line\n", path, LOYALTY_SMS_SECRET_MAX);
		return -1;
	}
	return 0;
}

static int
parse_uint(const char *flag, const char *s, uint64_t max, unsigned *out)
{
	uint64_t v;

	if (sigil_parse_u64(s, max, &v) != 0) {
		fprintf(stderr, "sigild: %s takes a whole number up to %llu\n",
		    flag, (unsigned long long)max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

struct uint_opt {
	int		ch;
	const char	*flag;
	uint64_t	max;
	int		nonzero;
	unsigned	*out;
};

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "base-url", required_argument, NULL, 'b' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "trusted-proxy", required_argument, NULL, 'p' },
		{ "rate-limit", required_argument, NULL, 'r' },
		{ "api-rate-limit", required_argument, NULL, 'a' },
		{ "max-conns", required_argument, NULL, 'm' },
		{ "max-conns-per-addr", required_argument, NULL, 'M' },
		{ "body-min-rate", required_argument, NULL, 'B' },
		{ "timeout", required_argument, NULL, 't' },
		{ "keyring", required_argument, NULL, 'K' },
		{ "web", required_argument, NULL, 'w' },
		{ "no-sync", no_argument, NULL, 'n' },
		{ "wal", no_argument, NULL, 'W' },
		{ "no-wal", no_argument, NULL, 'N' },
		{ "sms-webhook", required_argument, NULL, 'S' },
		{ "sms-secret-file", required_argument, NULL, 'Z' },
		{ "webhook-allow", required_argument, NULL, 'A' },
		{ "webhook-ca", required_argument, NULL, 'C' },
		{ "webhook-dns", required_argument, NULL, 'D' },
		{ "wechat-api", required_argument, NULL, 1001 },
		{ "wechat-open", required_argument, NULL, 1002 },
		{ "wxpay-api", required_argument, NULL, 1003 },
		{ "smtp", required_argument, NULL, 1101 },
		{ "smtp-user", required_argument, NULL, 1102 },
		{ "smtp-password-file", required_argument, NULL, 1103 },
		{ "smtp-from", required_argument, NULL, 1104 },
		{ "smtp-ca", required_argument, NULL, 1105 },
		{ "otp-ttl", required_argument, NULL, 'O' },	/* tests */
		{ "login-rate", required_argument, NULL, 'L' },
		{ "otp-per-hour", required_argument, NULL, 'H' },
		{ "rate-v6-56", no_argument, NULL, '6' },
		{ "geoip", required_argument, NULL, 'G' },
		{ "unbranded-retention", required_argument, NULL, 'U' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct http_config cfg = {
		.listen = "127.0.0.1:8080", .rate_limit = 20,
		.max_conns = 20000, .max_header_bytes = 8192,
		.max_body_bytes = 8 << 20, .timeout_s = 10,
		.max_conns_per_addr = 256, .body_min_rate = 4096,
		.head_auth = route_api_head_auth,
	};
	struct app app = { .api_rate_limit = 100 };
	struct store_state_info si;
	struct loyalty_config lcfg = { 0 };
	struct loginguard_config gcfg = { 0 };
	struct shutdown_state sd = { &app, NULL, 0 };
	struct event *sigterm = NULL, *sigint = NULL, *sighup = NULL;
	struct event *tidy = NULL;
	const struct timeval one_second = { 1, 0 };
	struct webhook_dispatcher *hooks = NULL;
	struct message_dispatcher *messages = NULL;
	struct message_sched *msched = NULL;
	struct payout_dispatcher *payouts = NULL;
	struct egress_config ecfg = { 0 };
	struct notify_smtp_flags smtpf = { 0 };
	struct notify *notify = NULL;
	char smtp_err[200];
	const char *sms_secret_file = NULL, *why;
	const char *wechat_api = NULL, *wechat_open = NULL, *wxpay_api = NULL;
	char sms_secret[LOYALTY_SMS_SECRET_MAX + 1] = "";
	const char *data = "./data", *keyring_path = NULL, *base_url = NULL;
	const char *geoip_path = NULL;
	char keyring_buf[PATH_MAX], web[PATH_MAX] = "";
	const struct http_route *routes;
	size_t nroutes;
	unsigned timeout = 10, unbranded_days = 0;
	/* The options that take a whole number (0 refused without a word
	 * where nonzero is set, as it always was). */
	const struct uint_opt uopts[] = {
		{ 'r', "--rate-limit", 1000000, 0, &cfg.rate_limit },
		{ 'a', "--api-rate-limit", 1000000, 0, &app.api_rate_limit },
		{ 'm', "--max-conns", 1000000, 1, &cfg.max_conns },
		{ 'M', "--max-conns-per-addr", 1000000, 0,
		    &cfg.max_conns_per_addr },
		{ 'B', "--body-min-rate", 1 << 30, 0, &cfg.body_min_rate },
		{ 't', "--timeout", 3600, 1, &timeout },
		{ 'O', "--otp-ttl", 3600, 1, &lcfg.otp_ttl_s },
		{ 'L', "--login-rate", 100000, 1, &gcfg.global_per_s },
		{ 'H', "--otp-per-hour", 10000000, 1, &lcfg.otp_per_hour },
		{ 'U', "--unbranded-retention", RETENTION_DAYS_MAX, 0,
		    &unbranded_days },
		{ 0 }
	};
	const struct uint_opt *u;
	int ch, nosync = 0, wal = -1, err, rc = 1;
	sigset_t stopsigs;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		for (u = uopts; u->flag != NULL && u->ch != ch; u++)
			;
		if (u->flag != NULL) {
			if (parse_uint(u->flag, optarg, u->max, u->out) != 0 ||
			    (u->nonzero && *u->out == 0))
				return 2;
			continue;
		}
		switch (ch) {
		case 'd': data = optarg; break;
		case 'l': cfg.listen = optarg; break;
		case 'b': base_url = optarg; break;
		case 'c': cfg.tls_cert = optarg; break;
		case 'k': cfg.tls_key = optarg; break;
		case 'p': cfg.trusted_proxy = optarg; break;
		case 'K': keyring_path = optarg; break;
		case 'w': snprintf(web, sizeof web, "%s", optarg); break;
		case 'n': nosync = 1; break;
		case 'W': wal = 1; break;
		case 'N': wal = 0; break;
		case 'S': lcfg.sms_webhook = optarg; break;
		case 'Z': sms_secret_file = optarg; break;
		case 'A':
			if ((err = egress_policy_allow(&ecfg.policy,
			    optarg)) != 0) {
				fprintf(stderr, "sigild: --webhook-allow takes "
				    "ADDRESS/BITS in canonical form with no host "
				    "bits set (10.0.0.0/8, fd00::/8), at most %d "
				    "times: '%s'\n", EGRESS_ALLOW_MAX, optarg);
				return 2;
			}
			break;
		case 'C': ecfg.ca_file = optarg; break;
		case 1001: wechat_api = optarg; break;
		case 1002: wechat_open = optarg; break;
		case 1003: wxpay_api = optarg; break;
		case 1101: smtpf.url = optarg; break;
		case 1102: smtpf.user = optarg; break;
		case 1103: smtpf.password_file = optarg; break;
		case 1104: smtpf.from = optarg; break;
		case 1105: smtpf.ca_file = optarg; break;
		case 'D': ecfg.dns_server = optarg; break;
		case '6':
			cfg.rate_v6_56 = 1;
			lcfg.rate_flags = gcfg.rate_flags = RATELIMIT_V6_56;
			break;
		case 'G': geoip_path = optarg; break;
		case 'q': log_set_level(LOG_LEVEL_WARN); break;
		case 'h': fputs(usage, stdout); return 0;
		default:
			fprintf(stderr, "sigild: unknown option or missing "
			    "value: %s (see sigild --help)\n", argv[optind - 1]);
			return 2;
		}
	}
	cfg.timeout_s = (int)timeout;
	if (optind != argc) {
		fprintf(stderr, "sigild: unexpected argument '%s'\n",
		    argv[optind]);
		return 2;
	}
	if ((cfg.tls_cert == NULL) != (cfg.tls_key == NULL)) {
		fprintf(stderr, "sigild: --tls-cert and --tls-key go together\n");
		return 2;
	}
	if (lcfg.sms_webhook != NULL) {
		if ((err = webhook_target_check(&ecfg.policy, lcfg.sms_webhook,
		    &why)) != 0) {
			fprintf(stderr, "sigild: --sms-webhook: %s\n", why);
			return 2;
		}
		if (sms_secret_file == NULL) {
			fprintf(stderr, "sigild: --sms-webhook needs "
			    "--sms-secret-file: the gateway must be able to "
			    "tell sigild's requests from anyone else's\n");
			return 2;
		}
		if (secret_file_read(sms_secret_file, sms_secret) != 0)
			return 2;
		lcfg.sms_secret = sms_secret;
	} else if (sms_secret_file != NULL) {
		fprintf(stderr, "sigild: --sms-secret-file goes with "
		    "--sms-webhook\n");
		return 2;
	}
	if (notify_smtp_flags(&smtpf, smtp_err, sizeof smtp_err) != 0) {
		fprintf(stderr, "sigild: %s\n", smtp_err);
		return 2;
	}
	if (keyring_path == NULL)
		keyring_path = getenv("SIGIL_KEYRING");
	if (keyring_path == NULL) {
		snprintf(keyring_buf, sizeof keyring_buf, "%s/keyring", data);
		keyring_path = keyring_buf;
	}
	if (web[0] == '\0')
		web_dir_default(web, sizeof web);
	signal(SIGPIPE, SIG_IGN);
	/*
	 * SIGTERM and SIGINT wait until their handlers are in place: one
	 * that came between the listening socket opening and evsignal_add
	 * used to end the process without closing the store (with --wal,
	 * an unclean stop the next open has to recover from). Threads
	 * started meanwhile keep them blocked, so they reach this one.
	 */
	sigemptyset(&stopsigs);
	sigaddset(&stopsigs, SIGTERM);
	sigaddset(&stopsigs, SIGINT);
	sigaddset(&stopsigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stopsigs, NULL);
	raise_fd_limit();
	malloc_keep();
	evthread_use_pthreads();

	if (nosync && wal == 1) {
		fprintf(stderr, "sigild: --wal and --no-sync exclude each other\n");
		return 2;
	}
	if (wal < 0)
		wal = !nosync;	/* the log unless syncs are off */
	if ((err = store_open(data, nosync ? STORE_NOSYNC : wal ? STORE_WAL :
	    STORE_NOMETASYNC, &app.store)) != 0) {
		fprintf(stderr, "sigild: cannot open data dir %s: %s%s\n", data,
		    sigil_strerror(err), store_open_hint(err));
		return 2;
	}
	if (store_replayed(app.store) > 0)
		log_info("wal", "replayed=%llu msg=\"applied the log after an "
		    "unclean stop\"",
		    (unsigned long long)store_replayed(app.store));
	/* Replays the scans code_state lacks now, not at the first scan. */
	if ((err = store_state_load(app.store)) != 0) {
		fprintf(stderr, "sigild: cannot replay the scan log of %s: %s\n",
		    data, sigil_strerror(err));
		goto out;
	}
	if (store_scrub_pending(app.store)) {
		/* An erasure whose scrub was cut short: finish it now. */
		struct store_scrub_stats ss = { 0 };

		err = store_scrub(app.store, &ss);
		log_info("scrub", "result=%s pages=%llu freed=%llu gaps=%llu "
		    "ms=%lld", err ? sigil_strerror(err) : "ok",
		    (unsigned long long)ss.pages,
		    (unsigned long long)ss.free_pages,
		    (unsigned long long)ss.gap_pages, (long long)ss.ms);
		err = 0;
	}
	store_state_info(app.store, &si);
	log_info("state", "replayed=%llu pending=%zu resumed_merge=%s "
	    "generation=%zu", (unsigned long long)si.replayed, si.pending,
	    si.resumed ? "yes" : "no", si.freeze_at);
	if ((err = keyring_open(keyring_path, 0, &app.keyring)) != 0) {
		fprintf(stderr, "sigild: cannot open keyring %s: %s\n",
		    keyring_path, sigil_strerror(err));
		goto out;
	}
	/* Keys made with `sigil key new` while serving are found. */
	keyring_watch(app.keyring, 1, keyring_reloaded, "unknown_key");
	if ((err = keyring_secret(app.keyring, "cookie", 1,
	    app.cookie_key)) != 0) {
		fprintf(stderr, "sigild: keyring %s: %s\n", keyring_path,
		    sigil_strerror(err));
		goto out;
	}
	if (wechat_api != NULL && webhook_target_check(&ecfg.policy,
	    wechat_api, &why) != 0) {
		fprintf(stderr, "sigild: --wechat-api: %s\n", why);
		rc = 2;
		goto out;
	}
	if ((err = wechat_init(&app, wechat_api, wechat_open)) != 0) {
		fprintf(stderr, "sigild: --wechat-api / --wechat-open: %s%s\n",
		    sigil_strerror(err), err == SIGIL_EINVAL ? " (http:// or "
		    "https:// with a host, no query)" : "");
		rc = 2;
		goto out;
	}
	if (wxpay_api != NULL && webhook_target_check(&ecfg.policy,
	    wxpay_api, &why) != 0) {
		fprintf(stderr, "sigild: --wxpay-api: %s\n", why);
		rc = 2;
		goto out;
	}
	/* Content buttons naming a link type find it in the link store. */
	content_link_resolver_set(links_href_for);
	if ((err = page_init(web)) != 0) {
		fprintf(stderr, "sigild: cannot load %s/landing.html: %s\n",
		    web, sigil_strerror(err));
		goto out;
	}
	if (geoip_path != NULL) {
		char why_geo[128] = "";

		if ((err = geoip_open(geoip_path, &app.geoip, why_geo,
		    sizeof why_geo)) != 0) {
			fprintf(stderr, "sigild: --geoip %s: %s\n", geoip_path,
			    err == SIGIL_ENOTFOUND ? "no such file" : why_geo);
			rc = 2;
			goto out;
		}
		log_info("geoip", "state=on type=%s built=%llu",
		    geoip_type(app.geoip),
		    (unsigned long long)geoip_built(app.geoip));
	} else
		log_info("geoip", "state=off reason=\"no --geoip database: "
		    "scans get no region\"");
	lcfg.data_dir = data;
	lcfg.web_dir = web;
	err = loyalty_init(&app, &lcfg);
	explicit_bzero(sms_secret, sizeof sms_secret);	/* loyalty has a copy */
	if (err != 0) {
		fprintf(stderr, "sigild: loyalty: %s%s\n", sigil_strerror(err),
		    err == SIGIL_EINVAL ? " (--sms-webhook takes an http:// or "
		    "https:// URL)" : err == SIGIL_ENOTFOUND ? " (no member.html "
		    "in the web dir)" : "");
		goto out;
	}
	if (dashboard_init(web) != 0)
		log_warn("dashboard", "dir=%s/admin err=\"not found\" "
		    "(the dashboard pages are not served)", web);
	stats_prewarm_start(app.store);
	if ((app.base = base_new()) == NULL ||
	    writer_start(app.store, app.base, !nosync && !wal, &app.writer) != 0 ||
	    loginguard_init(app.base, &gcfg) != 0 ||
	    http_job_init(app.base) != 0) {
		fprintf(stderr, "sigild: cannot start the event loop\n");
		goto out;
	}
	/*
	 * Behind a TLS-terminating proxy the public URL (--base-url) says
	 * whether browsers reach us over https: cookies are then Secure and
	 * every reply carries HSTS, as with native TLS.
	 */
	app.secure_cookies = cfg.tls_cert != NULL || (base_url != NULL &&
	    strncasecmp(base_url, "https://", 8) == 0);
	cfg.hsts = app.secure_cookies;
	app.base_url = base_url;
	app.started = sigil_now_us();
	routes = route_table(&nroutes);
	if ((err = http_server_start(app.base, &cfg, routes, nroutes, &app,
	    &app.http)) != 0) {
		fprintf(stderr, "sigild: cannot listen on %s: %s\n", cfg.listen,
		    err == SIGIL_EINVAL ? "bad address, proxy list or TLS "
		    "files" : "address in use or not permitted");
		if (err == SIGIL_EINVAL)
			rc = 2;
		goto out;
	}
	if ((err = egress_start(app.base, &ecfg, &app.egress)) != 0) {
		fprintf(stderr, "sigild: cannot start outbound HTTP: %s%s\n",
		    sigil_strerror(err), err == SIGIL_EINVAL ? " (check "
		    "--webhook-ca and --webhook-dns)" : "");
		rc = 2;
		goto out;
	}
	if ((err = webhook_dispatcher_start(&app, &hooks)) != 0) {
		fprintf(stderr, "sigild: cannot start webhook delivery: %s\n",
		    sigil_strerror(err));
		goto out;
	}
	if ((err = notify_channels_register()) != 0 ||
	    (err = message_channels_builtin()) != 0 ||
	    (err = message_dispatcher_start(&app, &messages)) != 0 ||
	    (err = message_sched_start(&app, &msched)) != 0) {
		fprintf(stderr, "sigild: cannot start message delivery: %s\n",
		    sigil_strerror(err));
		goto out;
	}
	if ((err = payout_dispatcher_start(&app, wxpay_api, &payouts)) != 0) {
		fprintf(stderr, "sigild: cannot start cash payouts: %s%s\n",
		    sigil_strerror(err), err == SIGIL_EINVAL ? " (--wxpay-api "
		    "takes an http:// or https:// URL without a query)" : "");
		rc = err == SIGIL_EINVAL ? 2 : 1;
		goto out;
	}
	if ((err = notify_start(&app, &notify)) != 0) {
		fprintf(stderr, "sigild: cannot start alert notifications: %s\n",
		    sigil_strerror(err));
		goto out;
	}
	if ((err = retention_start(&app, unbranded_days,
	    &app.retention)) != 0) {
		fprintf(stderr, "sigild: cannot start the retention job: %s\n",
		    sigil_strerror(err));
		goto out;
	}
	sd.poll = evtimer_new(app.base, shutdown_poll, &sd);
	if ((tidy = event_new(app.base, -1, EV_PERSIST, malloc_tidy,
	    NULL)) == NULL || evtimer_add(tidy, &one_second) != 0)
		goto out;
	malloc_tidy(-1, 0, NULL);
	sigterm = evsignal_new(app.base, SIGTERM, on_signal, &sd);
	sigint = evsignal_new(app.base, SIGINT, on_signal, &sd);
	sighup = evsignal_new(app.base, SIGHUP, on_hup, &app);
	if (sd.poll == NULL || sigterm == NULL || sigint == NULL ||
	    sighup == NULL || evsignal_add(sigterm, NULL) != 0 ||
	    evsignal_add(sigint, NULL) != 0 || evsignal_add(sighup, NULL) != 0)
		goto out;
	pthread_sigmask(SIG_UNBLOCK, &stopsigs, NULL);
	log_info("listening", "addr=%s port=%d tls=%s sync=%s data=%s%s%s",
	    cfg.listen, http_server_port(app.http), cfg.tls_cert ? "on" : "off",
	    nosync ? "off" : wal ? "wal" : "on", data, base_url ? " base_url=" : "",
	    base_url ? base_url : "");
	event_base_dispatch(app.base);
	log_info("stopped", "scans=%llu",
	    (unsigned long long)(app.scans_by_verdict[0] +
	    app.scans_by_verdict[1] + app.scans_by_verdict[2] +
	    app.scans_by_verdict[3] + app.scans_by_verdict[4]));
	rc = 0;
out:
	if (sigterm != NULL)
		event_free(sigterm);
	if (sigint != NULL)
		event_free(sigint);
	if (sighup != NULL)
		event_free(sighup);
	if (sd.poll != NULL)
		event_free(sd.poll);
	if (tidy != NULL)
		event_free(tidy);
	webhook_dispatcher_free(hooks);
	message_sched_free(msched);
	message_dispatcher_free(messages);
	payout_dispatcher_free(payouts);
	notify_free(notify);
	retention_free(app.retention);
	loginguard_fini();	/* answers the logins being hashed */
	http_job_fini();	/* print files being made: cancelled */
	http_server_free(app.http);
	writer_free(app.writer);
	/* Last on the loop: SMS requests still in flight are dropped. */
	egress_free(app.egress);
	notify_smtp_configure(NULL);	/* SMTP sessions in flight dropped */
	if (app.base != NULL)
		event_base_free(app.base);
	page_fini();
	lookup_fini();
	loyalty_fini(&app);
	wechat_fini(&app);
	if (app.keyring != NULL)
		keyring_free(app.keyring);
	stats_prewarm_stop();
	store_close(app.store);
	geoip_close(app.geoip);
	return rc;
}
