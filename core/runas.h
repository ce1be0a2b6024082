/*
 * runas.h - who a task runs as, and within which limits: least privilege for tasks.
 *
 * A task may name a user (and group) to run as, `run_as = "USER[:GROUP]"`, and resource
 * limits, `limits = "cpu=60,mem=512M,files=1024,procs=200,fsize=1G,core=0"` (setrlimit:
 * RLIMIT_CPU seconds, RLIMIT_AS, RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_FSIZE, RLIMIT_CORE).
 * The executor resolves both in the parent (names to ids, the user's groups and home), and
 * the forked child applies them with async-signal-safe calls only (setrlimit, setgroups,
 * setgid, setuid) before it changes directory and execs.
 *
 * The host's policy (config group `tasks`): an executor running as root runs a task as its
 * run_as user, else as tasks.user; it refuses to run a task as root unless tasks.allow_root
 * is set. An executor that is not root runs tasks as itself and refuses a run_as naming
 * someone else.
 */
#ifndef NORC_RUNAS_H
#define NORC_RUNAS_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

#define NORC_RUNAS_MAX_GROUPS 1024
#define NORC_RUNAS_MAX_LIMITS 6

struct norc_runas {
	bool switch_user; /* setgroups/setgid/setuid in the child */
	uid_t uid;
	gid_t gid;
	gid_t groups[NORC_RUNAS_MAX_GROUPS];
	int ngroups;
	char user[64], home[512]; /* switch_user: for HOME, USER, LOGNAME and the directory */
	struct {
		int resource;
		rlim_t value;
	} lim[NORC_RUNAS_MAX_LIMITS];
	int nlim;
};

/* Check and normalize a limits text ("cpu=1m, mem=512M" -> "cpu=60,mem=536870912"; "" ->
 * ""): err names the bad item and the accepted ones. norm gets at most len bytes. */
int norc_runas_limits_parse(const char *text, char *norm, size_t len, char *err, size_t errlen);
/* Check a run_as text: "USER" or "USER:GROUP" of names ([A-Za-z0-9_.-], at most 32). It need
 * not exist here (tasks run on other hosts): the executor looks it up. */
int norc_runas_check(const char *run_as, char *err, size_t errlen);
/* In the executor, before the fork: resolve run_as (NULL or "": none) and limits (normalized
 * text, NULL or "": none) under cfg's policy into *out. err says why a task cannot run here
 * (no such user on this host, root refused, not root to switch users). */
int norc_runas_resolve(const struct norc_config *cfg, const char *run_as, const char *limits,
		       struct norc_runas *out, char *err, size_t errlen);
/* In the forked child: apply r (limits, then groups, gid and uid). Async-signal-safe. 0, or
 * -1 with errno set; *step gets 'l' (a limit) or 'u' (the user). */
int norc_runas_apply(const struct norc_runas *r, char *step);

#endif
