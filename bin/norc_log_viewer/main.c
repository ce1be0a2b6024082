/*
 * norc_log_viewer KIND ID|#ID [-r] [-f] [-C FILE] - print the log of an instance, a job node,
 * an executor or a scheduler.
 *
 * KIND is instance, node, executor or scheduler (any case, any unique prefix); the id may carry
 * the '#' of log lines ("<Instance #42 of ...>"). The local file under log_dir comes first; when
 * it is not on this host (another host ran it, or the retention deleted it) or -r is given, the
 * log comes from the backup store (config group `backup`). -f follows a log that is still being
 * written until its instance or daemon ends. Exit codes: 0 printed, 1 no such object or no log
 * (the message says why and where to look), 2 usage.
 */
#include "backup.h"
#include "clock.h"
#include "config.h"
#include "daemon.h"
#include "db.h"
#include "mem.h"
#include "plugin.h"
#include "status.h"
#include "logread.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <unistd.h>

#define PROG "norc_log_viewer"

static void usage(FILE *out)
{
	fprintf(out, "usage: " PROG " KIND ID|#ID [-r] [-f] [-C FILE]\n\n"
		     "Prints the log of an instance, job node, executor or scheduler: the local file,\n"
		     "else the copy in the backup store.\n"
		     "  KIND               instance, node, executor or scheduler (unique prefixes work)\n"
		     "  -r, --remote       read the backup store even when the file is here\n"
		     "  -f, --follow       follow a log still being written until its owner ends\n"
		     "  -C, --config FILE  config file\n");
}

/* Copy what can be read now from fd to stdout. false on a write error. */
static bool pump(int fd)
{
	char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			return false;
	return fflush(stdout) == 0;
}

/* Print fd, then what is appended to it, until the owner ends. Wakes on inotify; the
 * database is asked at most once a second. */
static int follow(struct norc_db *db, const struct norc_logread *t, int fd, const char *abs)
{
	int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ifd >= 0 && inotify_add_watch(ifd, abs, IN_MODIFY | IN_CLOSE_WRITE) < 0) {
		close(ifd);
		ifd = -1;
	}
	bool ended = false;
	int64_t next_check = 0;
	int rc = 0, db_failures = 0;
	for (;;) {
		if (!pump(fd)) {
			fprintf(stderr, PROG ": error: cannot write the log to stdout: %s\n",
				strerror(errno));
			rc = 1;
			break;
		}
		if (ended)
			break;
		int64_t mono = norc_clock_mono_us();
		if (mono >= next_check) {
			int e = norc_logread_ended(db, t);
			db_failures = e < 0 ? db_failures + 1 : 0;
			if (db_failures == 30) {
				fprintf(stderr, PROG ": error: stopped following: the database has "
					"not answered for 30 s (%s)\n", norc_db_errmsg(db));
				rc = 1;
				break;
			}
			ended = e == 1;
			next_check = mono + NORC_US_PER_SEC;
			if (ended) { /* the last lines (a job's end) are written right after */
				poll(NULL, 0, 200);
				continue;
			}
		}
		struct pollfd p = {.fd = ifd, .events = POLLIN};
		int wait = (int)((next_check - norc_clock_mono_us()) / 1000) + 1;
		if (ifd >= 0 && poll(&p, 1, wait) > 0) {
			char ev[4096];
			while (read(ifd, ev, sizeof(ev)) > 0)
				;
		} else if (ifd < 0) {
			poll(NULL, 0, 250); /* no inotify here: look four times a second */
		}
	}
	if (ifd >= 0)
		close(ifd);
	return rc;
}

static int show(struct norc_config *cfg, struct norc_db *db, const struct norc_logread *t, bool remote,
		bool follow_it)
{
	char *abs = norc_xasprintf("%s/%s", cfg->log_dir, t->path);
	int rc = 1;
	int fd = remote ? -1 : open(abs, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		rc = follow_it && !t->ended ? follow(db, t, fd, abs) : !pump(fd);
		close(fd);
		free(abs);
		return rc;
	}
	if (!remote && errno != ENOENT) {
		fprintf(stderr, PROG ": error: cannot read %s: %s\n", abs, strerror(errno));
		free(abs);
		return 1;
	}
	free(abs);
	bool inst = t->kind == NORC_LOG_INSTANCE || t->kind == NORC_LOG_NODE;
	if (follow_it && inst && t->status == NORC_ST_CREATED) {
		fprintf(stderr, PROG ": error: instance #%" PRId64 " has not started yet (status "
			"CREATED): no log to follow yet; try again once it runs\n", t->id);
		return 1;
	}
	if (follow_it && !t->ended) {
		fprintf(stderr, PROG ": error: %s #%" PRId64 " is still running on %s and its log "
			"is there; run " PROG " -f on that host\n", norc_logread_kind_name(t->kind), t->id,
			t->host[0] ? t->host : "another host");
		return 1;
	}
	struct norc_backup *b;
	char err[600];
	if (norc_backup_open(cfg, &b, err, sizeof(err)) != NORC_OK) {
		fprintf(stderr, PROG ": error: %s\n", err);
		return 1;
	}
	if (!b) {
		norc_logread_explain(db, t, NULL, cfg->log_dir, PROG, err, sizeof(err));
		fprintf(stderr, PROG ": error: %s\n", err);
		return 1;
	}
	fprintf(stderr, "Retrieving the log from %s...\n", norc_backup_name(b));
	fflush(stdout);
	rc = norc_backup_fetch(b, t->path, STDOUT_FILENO, err, sizeof(err));
	if (rc == NORC_ENOTFOUND) {
		norc_logread_explain(db, t, norc_backup_name(b), cfg->log_dir, PROG, err,
				     sizeof(err));
		fprintf(stderr, PROG ": error: %s\n", err);
	}
	else if (rc != NORC_OK)
		fprintf(stderr, PROG ": error: could not retrieve the log: %s\n", err);
	norc_backup_close(b);
	return rc == NORC_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {{"remote", no_argument, NULL, 'r'},
					   {"follow", no_argument, NULL, 'f'},
					   {"config", required_argument, NULL, 'C'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	const char *config = NULL;
	bool remote = false, follow_it = false;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "rfC:h", lo, NULL)) != -1) {
		switch (c) {
		case 'r': remote = true; break;
		case 'f': follow_it = true; break;
		case 'C': config = optarg; break;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, PROG ": error: unknown option or missing value: %s (see "
				"--help)\n", argv[optind - 1]);
			return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, PROG ": error: give KIND and ID, such as: " PROG " instance 42 "
			"(see --help)\n");
		return 2;
	}
	enum norc_logread_kind kind;
	if (norc_logread_parse_kind(argv[optind], &kind) != 0) {
		fprintf(stderr, PROG ": error: unknown kind '%s'; use instance, node, executor or "
			"scheduler\n", argv[optind]);
		return 2;
	}
	const char *ids = argv[optind + 1];
	char *end;
	errno = 0;
	long long id = strtoll(ids + (ids[0] == '#'), &end, 10);
	if (errno || end == ids + (ids[0] == '#') || *end || id <= 0) {
		fprintf(stderr, PROG ": error: '%s' is not an id; give a number such as 42 or #42\n",
			ids);
		return 2;
	}
	if (remote && follow_it) {
		fprintf(stderr, PROG ": error: -f follows the local file; it cannot be combined "
			"with -r\n");
		return 2;
	}
	struct norc_config *cfg;
	struct norc_db *db;
	if (norc_daemon_open(PROG, config, &cfg, &db) != NORC_OK)
		return 1;
	struct norc_logread t;
	char err[600];
	int rc = norc_logread_find(db, kind, id, &t, err, sizeof(err));
	if (rc == NORC_OK) {
		rc = show(cfg, db, &t, remote, follow_it);
		norc_logread_free(&t);
	} else {
		fprintf(stderr, PROG ": error: %s\n", err);
		rc = 1;
	}
	norc_plugin_unload_all();
	norc_db_close(db);
	norc_config_free(cfg);
	return rc;
}
