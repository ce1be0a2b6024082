/*
 * queuectl.c - drives one queue plugin .so from the command line, for tests and for trying a
 * queue by hand: dlopen()s it as the loader does, calls init with a minimal host API table of
 * its own (log to stderr, parameters from -o, no database), then runs the commands given, in
 * order and in this one process (so what a pop holds survives until its ack or nack).
 *
 *   queuectl PLUGIN.so [-o KEY=VALUE]... [--name NAME] [--id N] [--time] COMMAND...
 *     (a later -o for the same KEY replaces the earlier one)
 *     info            prints "info NAME VERSION remote|local"
 *     validate        validate(params)                       -> "validate ok"
 *     open            open(ref) (done by the first op too)   -> "open ok"
 *     push ID         -> "push ID"          pop     -> "pop ID" or "pop EAGAIN"
 *     ack ID          -> "ack ID"           nack ID DELAY -> "nack ID DELAY"
 *     touch           -> "touch ok"         count   -> "count N"
 *     peek            -> "peek ID", "peek EAGAIN" or "peek EUNSUPP"
 *     clear           -> "clear N"          sleep S -> "sleep S" (S may be fractional)
 *   --time appends " [N ms]" (how long the command took) to each line.
 *
 * A failed command prints "error: COMMAND: RC-NAME: MESSAGE" and stops the run. Plugin log
 * lines go to stderr as "queuectl: log LEVEL: message". Exit status: 0 all done, 1 a command
 * failed, 2 usage or load error.
 */
#include "stubhost.h"

#include <norc/queue.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct ctl {
	const struct norc_plugin *plugin;
	const struct norc_queue_ops *ops;
	void *state, *handle;
	struct norc_queue_ref ref;
	bool has_14; /* the ops struct covers flags, ack, nack, touch (ABI 1.4) */
};

static int usage(void)
{
	fprintf(stderr, "usage: queuectl PLUGIN.so [-o KEY=VALUE]... [--name NAME] [--id N] "
			"[--time] COMMAND...\n  commands: info validate open push ID pop ack ID "
			"nack ID DELAY touch count peek clear sleep S\n");
	return 2;
}

static bool parse_i64(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return false;
	*out = v;
	return true;
}

static int ensure_open(struct ctl *c, char *err, size_t errlen)
{
	if (c->handle)
		return NORC_OK;
	return c->ops->open(c->state, &c->ref, &c->handle, err, errlen);
}

/* Run argv[0] with its arguments into line; *used gets how many words it took. */
static int run_one(struct ctl *c, int argc, char **argv, int *used, char *line, size_t len,
		   char *err, size_t errlen)
{
	const char *cmd = argv[0];
	int64_t a = 0, b = 0;
	int rc = NORC_OK;
	*used = 1;
	if (strcmp(cmd, "info") == 0) {
		bool remote = c->has_14 && (c->ops->flags & NORC_QUEUE_REMOTE);
		snprintf(line, len, "info %s %s %s", c->plugin->name, c->plugin->version,
			 remote ? "remote" : "local");
	} else if (strcmp(cmd, "validate") == 0) {
		rc = c->ops->validate(c->state, c->ref.params, err, errlen);
		snprintf(line, len, "validate ok");
	} else if (strcmp(cmd, "open") == 0) {
		rc = ensure_open(c, err, errlen);
		snprintf(line, len, "open ok");
	} else if (strcmp(cmd, "sleep") == 0 && argc > 1) {
		char *end;
		double s = strtod(argv[1], &end);
		if (end == argv[1] || *end || s < 0 || s > 3600)
			return -1000;
		struct timespec ts = {.tv_sec = (time_t)s,
				      .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		*used = 2;
		snprintf(line, len, "sleep %s", argv[1]);
	} else if ((strcmp(cmd, "push") == 0 || strcmp(cmd, "ack") == 0) && argc > 1) {
		if (!parse_i64(argv[1], &a))
			return -1000;
		*used = 2;
		bool ack = cmd[0] == 'a';
		if (ack && (!c->has_14 || !c->ops->ack))
			return snprintf(err, errlen, "the plugin has no ack"), NORC_EUNSUPP;
		if ((rc = ensure_open(c, err, errlen)) == NORC_OK)
			rc = ack ? c->ops->ack(c->handle, a, err, errlen)
				 : c->ops->push(c->handle, a, err, errlen);
		snprintf(line, len, "%s %" PRId64, cmd, a);
	} else if (strcmp(cmd, "nack") == 0 && argc > 2) {
		if (!parse_i64(argv[1], &a) || !parse_i64(argv[2], &b) || b < 0 || b > 86400)
			return -1000;
		*used = 3;
		if (!c->has_14 || !c->ops->nack)
			return snprintf(err, errlen, "the plugin has no nack"), NORC_EUNSUPP;
		if ((rc = ensure_open(c, err, errlen)) == NORC_OK)
			rc = c->ops->nack(c->handle, a, (int)b, err, errlen);
		snprintf(line, len, "nack %" PRId64 " %" PRId64, a, b);
	} else if (strcmp(cmd, "touch") == 0) {
		if (!c->has_14 || !c->ops->touch)
			return snprintf(err, errlen, "the plugin has no touch"), NORC_EUNSUPP;
		if ((rc = ensure_open(c, err, errlen)) == NORC_OK)
			rc = c->ops->touch(c->handle, err, errlen);
		snprintf(line, len, "touch ok");
	} else if (strcmp(cmd, "pop") == 0 || strcmp(cmd, "peek") == 0) {
		bool pop = cmd[1] == 'o';
		if ((rc = ensure_open(c, err, errlen)) == NORC_OK) {
			if (pop)
				rc = c->ops->pop(c->handle, &a, err, errlen);
			else
				rc = c->ops->peek ? c->ops->peek(c->handle, &a, err, errlen)
						  : NORC_EUNSUPP;
		}
		if (rc == NORC_OK)
			snprintf(line, len, "%s %" PRId64, cmd, a);
		else if (rc == NORC_EAGAIN || (!pop && rc == NORC_EUNSUPP))
			snprintf(line, len, "%s %s", cmd, norc_stub_rcname(rc)), rc = NORC_OK;
	} else if (strcmp(cmd, "count") == 0 || strcmp(cmd, "clear") == 0) {
		bool count = cmd[1] == 'o';
		if ((rc = ensure_open(c, err, errlen)) == NORC_OK) {
			if (count)
				rc = c->ops->count(c->handle, &a, err, errlen);
			else
				rc = c->ops->clear ? c->ops->clear(c->handle, &a, err, errlen)
						   : NORC_EUNSUPP;
		}
		snprintf(line, len, "%s %" PRId64, cmd, a);
	} else {
		return -1000;
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct norc_params set = {0};
	struct ctl c = {.ref = {.struct_size = sizeof(struct norc_queue_ref), .id = 1,
				.name = "queuectl", .params = &set}};
	bool timing = false;
	int i = 2;
	if (argc < 3)
		return usage();
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--time") == 0) {
			timing = true;
			continue;
		}
		if (i + 1 >= argc)
			return usage();
		if (strcmp(argv[i], "--name") == 0) {
			c.ref.name = argv[++i];
		} else if (strcmp(argv[i], "--id") == 0) {
			if (!parse_i64(argv[++i], &c.ref.id))
				return usage();
		} else if (strcmp(argv[i], "-o") == 0) {
			if (!norc_stub_param(&set, argv[++i]))
				return usage();
		} else {
			return usage();
		}
	}
	if (i >= argc)
		return usage();

	norc_stub_init("queuectl");
	if (!(c.plugin = norc_stub_load(argv[1], NORC_KIND_QUEUE)))
		return 2;
	c.ops = c.plugin->ops;
	c.has_14 = c.ops->struct_size >= offsetof(struct norc_queue_ops, touch) +
					     sizeof(c.ops->touch);
	char err[1024] = "", line[256];
	int rc = c.plugin->init ? c.plugin->init(NULL, &norc_stub_api, &c.state, err, sizeof(err))
				: NORC_OK;
	if (rc != NORC_OK) {
		printf("error: init: %s: %s\n", norc_stub_rcname(rc), err);
		return 1;
	}
	int status = 0;
	while (i < argc) {
		int used = 1;
		err[0] = line[0] = '\0';
		int64_t t0 = mono_ms();
		rc = run_one(&c, argc - i, argv + i, &used, line, sizeof(line), err, sizeof(err));
		if (rc == -1000) {
			status = usage();
			break;
		}
		char took[32] = "";
		if (timing)
			snprintf(took, sizeof(took), " [%" PRId64 " ms]", mono_ms() - t0);
		if (rc != NORC_OK) {
			printf("error: %s: %s: %s%s\n", argv[i], norc_stub_rcname(rc), err, took);
			status = 1;
			break;
		}
		printf("%s%s\n", line, took);
		fflush(stdout);
		i += used;
	}
	if (c.handle)
		c.ops->close(c.handle);
	if (c.plugin->fini)
		c.plugin->fini(c.state);
	fflush(stdout);
	return status;
}
