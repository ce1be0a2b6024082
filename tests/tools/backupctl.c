/*
 * backupctl.c - drives one backup plugin .so from the command line, for tests and for trying a
 * store by hand: dlopen()s it as the loader does, calls init with a minimal host API table of
 * its own, open with key=value settings, then one op.
 *
 *   backupctl PLUGIN.so [-o KEY=VALUE]... put LOCAL_FILE KEY
 *                                         get KEY        (the object, decoded, on stdout)
 *                                         exists KEY     (prints true or false)
 *                                         del KEY
 *
 * Exit status: 0 done, 1 the op or open failed (one line on stderr), 2 usage or load error,
 * 3 get found no such object (NORC_ENOTFOUND).
 */
#include "stubhost.h"

#include <norc/backup.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr, "usage: backupctl PLUGIN.so [-o KEY=VALUE]... put LOCAL_FILE KEY | get KEY"
			" | exists KEY | del KEY\n");
	return 2;
}

static int failed(const char *op, int rc, const char *err)
{
	fprintf(stderr, "backupctl: %s: %s: %s\n", op, norc_stub_rcname(rc), err);
	return rc == NORC_ENOTFOUND && strcmp(op, "get") == 0 ? 3 : 1;
}

static int run_op(const struct norc_backup_ops *ops, void *h, int argc, char **argv)
{
	char err[1024] = "";
	const char *op = argv[0];
	int rc;
	if (strcmp(op, "put") == 0 && argc == 3) {
		rc = ops->put(h, argv[1], argv[2], err, sizeof(err));
	} else if (strcmp(op, "get") == 0 && argc == 2) {
		rc = ops->get(h, argv[1], STDOUT_FILENO, err, sizeof(err));
	} else if (strcmp(op, "exists") == 0 && argc == 2) {
		bool yes = false;
		rc = ops->exists(h, argv[1], &yes, err, sizeof(err));
		if (rc == NORC_OK)
			printf("%s\n", yes ? "true" : "false");
	} else if (strcmp(op, "del") == 0 && argc == 2 && ops->del) {
		rc = ops->del(h, argv[1], err, sizeof(err));
	} else {
		return usage();
	}
	return rc == NORC_OK ? 0 : failed(op, rc, err);
}

int main(int argc, char **argv)
{
	struct norc_params set = {0};
	int i = 2;
	if (argc < 3)
		return usage();
	for (; i + 1 < argc && strcmp(argv[i], "-o") == 0; i += 2)
		if (!norc_stub_param(&set, argv[i + 1]))
			return usage();
	if (i >= argc)
		return usage();

	norc_stub_init("backupctl");
	const struct norc_plugin *p = norc_stub_load(argv[1], NORC_KIND_BACKUP);
	if (!p)
		return 2;
	const struct norc_backup_ops *ops = p->ops;
	void *state = NULL, *h = NULL;
	char err[1024] = "";
	int rc = p->init ? p->init(NULL, &norc_stub_api, &state, err, sizeof(err)) : NORC_OK;
	if (rc != NORC_OK)
		return failed("init", rc, err);
	int status;
	rc = ops->open(state, &set, &h, err, sizeof(err));
	if (rc != NORC_OK) {
		status = failed("open", rc, err);
	} else {
		status = run_op(ops, h, argc - i, argv + i);
		ops->close(h);
	}
	if (p->fini)
		p->fini(state);
	fflush(stdout);
	return status;
}
