/*
 * spawn.h - starting a task's process the way the house style requires.
 *
 * Everything is prepared in the parent (argv, envp, log fd); the forked child only makes
 * async-signal-safe calls (in exec mode the child shares the parent's memory on its own
 * stack, as in posix_spawn, and the parent waits until the exec):
 * setsid (its own session and process group), default signal mask
 * and dispositions, /dev/null on stdin, the log on stdout and stderr, nice, every other fd
 * closed, resource limits and the task's user (runas.h), chdir, then execve (or the plugin's run_child, then _exit). An exec failure is
 * reported through a close-on-exec pipe, so the parent knows at once and says why.
 */
#ifndef NORC_SPAWN_H
#define NORC_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct norc_runas;

struct norc_spawn_req {
	char *const *argv; /* exec mode; borrowed */
	const char *path;  /* the file to exec; NULL: argv[0] (no PATH search either way) */
	/* true: a failed execve is the task's failure, reported as a shell does (the file and
	 * the reason on its stderr, exit 127 when not found, else 126), not a spawn error */
	bool exec_failure_is_task_failure;
	char *const *envp; /* borrowed */
	const char *cwd;   /* NULL: stay */
	int log_fd;        /* becomes stdout and stderr */
	int nice;
	/* in-child mode (argv NULL): called in the child; its return value is the exit code */
	int (*run_child)(void *arg);
	void *arg;
	/* non-zero: the child gets this signal when the spawning process dies (PR_SET_PDEATHSIG) */
	int parent_death_signal;
	/* resource limits and the user to run as (runas.h), applied after nice and before chdir;
	 * NULL: none */
	const struct norc_runas *runas;
};

/* Fork and start. *pid is the child (also its process group id). On a failure in the child
 * it is reaped here and err says why: NORC_EINVAL when the task's own settings failed (its
 * limits, its user, its directory as that user), NORC_EIO for this host's failures. */
int norc_spawn(const struct norc_spawn_req *req, pid_t *pid, char *err, size_t errlen);
/* Signal the whole process group of a spawned child. NORC_OK, or NORC_ENOTFOUND if gone. */
int norc_spawn_kill_group(pid_t pgid, int sig);
/* Make this process a child subreaper (orphaned descendants are reparented to it). */
int norc_spawn_become_subreaper(void);

/* Sweeps, so that no process outlives its instance. Every task gets NORC_EXECUTOR=<identity
 * of its executor> and NORC_INSTANCE_ID in its environment, which its descendants inherit,
 * also those that leave the process group with setsid().
 *
 * This process's identity "<pid>:<start time>:<scope>" (start time in clock ticks since boot,
 * so a reused pid never matches; scope names the database, norc_config_db_scope). */
void norc_spawn_identity(uint64_t scope, char *buf, size_t len);
/* Kill (SIGKILL, with their process groups) this user's processes whose NORC_EXECUTOR names
 * an executor of the same scope (database) that no longer runs: what was left on this host by an executor that died.
 * Scans /proc; call it at start-up and when an executor on this host is found dead.
 * Returns how many were killed. */
int norc_spawn_sweep_dead_executors(uint64_t scope);
/* Our direct children that are not task leaders are orphans reparented to us (we are a
 * subreaper). Each one whose NORC_INSTANCE_ID keep() refuses is killed with its group. One
 * without it in its /proc environ (in-child plugin code and what it forked without exec
 * show the executor's own environment) is asked with instance_id 0: keep() then decides by
 * pid. Returns how many. Reads /proc/self/task/<pid>/children: cheap, call it after a run
 * ends. */
int norc_spawn_kill_orphans(bool (*keep)(void *ctx, int64_t instance_id, pid_t pid), void *ctx);

#endif
