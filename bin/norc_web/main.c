/*
 * norc_web [--listen ADDR:PORT] [-C FILE] [--debug] - the web page and JSON API (docs/web.md).
 *
 * One thread around one event loop: libmicrohttpd runs without threads of its own (epoll);
 * this loop polls its epoll fd and the signal fd, and calls MHD_run when either is ready or
 * MHD's own timeout (idle connections) is due. Requests are answered one at a time from the
 * shared database. SIGHUP re-reads the config and the users file (listen address and TLS
 * files need a restart); SIGINT and SIGTERM stop it. It writes its log to stderr.
 * Exit codes: 0 stopped, 1 failed to start, 2 usage.
 */
#include "web.h"
#include "clock.h"
#include "daemon.h"
#include "log.h"
#include "mem.h"
#include "plugin.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROG "norc_web"

static void usage(FILE *out)
{
	fprintf(out, "usage: " PROG " [--listen ADDR:PORT] [-C FILE] [--debug]\n\n"
		     "Serves the status page and the JSON API (docs/web.md) from the config's `web`\n"
		     "group. SIGHUP reloads users and tokens; SIGINT or SIGTERM stops it.\n"
		     "  -l, --listen ADDR:PORT  instead of web.listen (\"[::1]:8470\" for IPv6)\n"
		     "  -C, --config FILE       config file\n"
		     "  -d, --debug             log every request\n");
}

/* "host:port" or "[v6]:port" into a socket address. */
static int parse_listen(const char *text, struct sockaddr_storage *ss, socklen_t *len, char *err,
			size_t errlen)
{
	char host[256];
	const char *port;
	if (text[0] == '[') {
		const char *e = strchr(text, ']');
		if (!e || e[1] != ':' || (size_t)(e - text - 1) >= sizeof(host))
			goto bad;
		memcpy(host, text + 1, (size_t)(e - text - 1));
		host[e - text - 1] = '\0';
		port = e + 2;
	} else {
		const char *c = strrchr(text, ':');
		if (!c || (size_t)(c - text) >= sizeof(host))
			goto bad;
		memcpy(host, text, (size_t)(c - text));
		host[c - text] = '\0';
		port = c + 1;
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV}, *ai;
	int g = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
	if (g != 0)
		return norc_err_set(err, errlen, NORC_ECONFIG, "web.listen \"%s\": %s; give "
				    "ADDR:PORT such as 127.0.0.1:8470", text, gai_strerror(g));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return NORC_OK;
bad:
	return norc_err_set(err, errlen, NORC_ECONFIG, "web.listen \"%s\" is not ADDR:PORT; give "
			    "such as 127.0.0.1:8470 or [::1]:8470", text);
}

static char *slurp(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		norc_err_set(err, errlen, NORC_ECONFIG, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(f);
	fclose(m);
	return buf;
}

/* libmicrohttpd's messages: during start-up kept for the one error line, then logged. */
static bool starting = true;
static char start_msg[512];

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	if (starting)
		snprintf(start_msg, sizeof(start_msg), "%s", msg);
	else
		NORC_WARN("web: http: %s", msg);
}

/* What main opened, in reverse order (any part may be missing). */
static void cleanup(struct norc_web *w, int sigfd)
{
	if (sigfd >= 0)
		close(sigfd);
	norc_web_metrics_free(w->metrics);
	norc_webauth_free(w->auth);
	norc_plugin_unload_all();
	norc_db_close(w->db);
	norc_config_free(w->cfg);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {{"listen", required_argument, NULL, 'l'},
					   {"config", required_argument, NULL, 'C'},
					   {"debug", no_argument, NULL, 'd'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	const char *config = NULL, *listen_at = NULL;
	bool debug = false;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "l:C:dh", lo, NULL)) != -1) {
		switch (c) {
		case 'l': listen_at = optarg; break;
		case 'C': config = optarg; break;
		case 'd': debug = true; break;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, PROG ": error: unknown option or missing value: %s (see "
				"--help)\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, PROG ": error: unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	norc_log_setup(stderr, NORC_LOG_STAMPED, debug ? NORC_LOG_DEBUG : NORC_LOG_INFO, false);
	struct norc_web w = {0};
	if (norc_daemon_open(PROG, config, &w.cfg, &w.db) != NORC_OK)
		return 1;
	char err[700];
	int rc = norc_webauth_new(w.cfg, &w.auth, err, sizeof(err));
	struct sockaddr_storage ss;
	socklen_t sslen;
	if (rc == NORC_OK)
		rc = parse_listen(listen_at ? listen_at : w.cfg->web.listen, &ss, &sslen, err,
				  sizeof(err));
	char root[PATH_MAX];
	if (rc == NORC_OK && !realpath(w.cfg->web.root, root))
		rc = norc_err_set(err, sizeof(err), NORC_ECONFIG, "web.root %s: %s; point it at the "
				  "folder holding index.html (web/ in the source tree)",
				  w.cfg->web.root, strerror(errno));
	if (rc == NORC_OK) {
		free(w.cfg->web.root);
		w.cfg->web.root = norc_xstrdup(root);
	}
	if (rc == NORC_OK && norc_webauth_user_count(w.auth) == 0 &&
	    norc_webauth_anonymous_role(w.auth) == NORC_ROLE_NONE && w.cfg->web.n_tokens == 0)
		NORC_WARN("web: no users or tokens are configured, so nobody can log in; add one "
			  "with `norc web user add NAME --role admin`");
	char *cert = NULL, *key = NULL;
	w.tls = w.cfg->web.tls_cert != NULL;
	if (rc == NORC_OK && w.tls) {
		cert = slurp(w.cfg->web.tls_cert, err, sizeof(err));
		key = cert ? slurp(w.cfg->web.tls_key, err, sizeof(err)) : NULL;
		if (!key)
			rc = NORC_ECONFIG;
	}
	int sigfd = rc == NORC_OK ? norc_daemon_signalfd() : -1;
	if (rc == NORC_OK && sigfd < 0)
		rc = norc_err_set(err, sizeof(err), NORC_ERR, "signalfd: %s", strerror(errno));
	struct MHD_Daemon *d = NULL;
	if (rc == NORC_OK) {
		w.metrics = norc_web_metrics_new(norc_clock_now_us());
		unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (w.tls ? MHD_USE_TLS : 0) |
				     (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
		/* the TLS options, or an empty list (its first item ends it) */
		struct MHD_OptionItem tls_opts[] = {
			{w.tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, cert},
			{MHD_OPTION_HTTPS_MEM_KEY, 0, key},
			{MHD_OPTION_END, 0, NULL},
		};
		d = MHD_start_daemon(flags, 0, NULL, NULL, norc_web_handler, &w,
				     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				     MHD_OPTION_NOTIFY_COMPLETED, norc_web_completed, &w,
				     MHD_OPTION_CONNECTION_LIMIT, 256,
				     MHD_OPTION_PER_IP_CONNECTION_LIMIT, 64,
				     MHD_OPTION_CONNECTION_TIMEOUT, 30,
				     MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
		if (!d)
			rc = norc_err_set(err, sizeof(err), NORC_ERR, "cannot listen on %s (%s); "
					  "pick another web.listen%s", listen_at ? listen_at
									 : w.cfg->web.listen,
					  start_msg[0] ? start_msg : "in use, or not an address of "
								    "this host",
					  w.tls ? ", or check that the TLS certificate and key are "
						  "valid PEM" : "");
	}
	if (key)
		memset(key, 0, strlen(key));
	free(cert);
	free(key);
	if (rc != NORC_OK) {
		fprintf(stderr, PROG ": error: %s\n", err);
		cleanup(&w, sigfd);
		return 1;
	}
	starting = false;
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
	const union MHD_DaemonInfo *pi = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	NORC_INFO("norc_web listening on %s (port %u, %s), %zu user(s), %zu token(s), anonymous: "
		  "%s, files from %s", listen_at ? listen_at : w.cfg->web.listen,
		  pi ? pi->port : 0, w.tls ? "HTTPS" : "HTTP", norc_webauth_user_count(w.auth),
		  w.cfg->web.n_tokens, w.cfg->web.anonymous, w.cfg->web.root);
	norc_daemon_notify("READY=1\nSTATUS=Serving the web page and API");
	bool stop = false;
	while (!stop) {
		MHD_UNSIGNED_LONG_LONG to;
		int timeout = -1;
		if (MHD_get_timeout(d, &to) == MHD_YES)
			timeout = to > 60000 ? 60000 : (int)to;
		struct pollfd p[2] = {{.fd = di->epoll_fd, .events = POLLIN},
				      {.fd = sigfd, .events = POLLIN}};
		int n = poll(p, 2, timeout);
		if (n < 0 && errno != EINTR) {
			NORC_ERROR("poll: %s", strerror(errno));
			break;
		}
		if (n > 0 && (p[1].revents & POLLIN)) {
			struct signalfd_siginfo si;
			while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					struct norc_config *nc = NULL;
					norc_daemon_reload_config(w.cfg);
					if (norc_config_load(w.cfg->file, &nc, err, sizeof(err)) !=
						    NORC_OK ||
					    norc_webauth_reload(w.auth, nc, err, sizeof(err)) != NORC_OK)
						NORC_ERROR("SIGHUP: users and tokens not reloaded (the "
							   "old ones stay): %s", err);
					else
						NORC_INFO("SIGHUP: %zu user(s) and %zu token(s)",
							  norc_webauth_user_count(w.auth),
							  nc->web.n_tokens);
					norc_config_free(nc);
				} else if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM) {
					NORC_INFO("norc_web stopping (signal %u)", si.ssi_signo);
					norc_daemon_notify("STOPPING=1");
					stop = true;
				}
			}
		}
		MHD_run(d);
	}
	MHD_stop_daemon(d);
	cleanup(&w, sigfd);
	return 0;
}
