/*
 * spawn.c - see spawn.h. The child side is the fixed sequence of c-anchors-style.md rule 22;
 * no malloc, no stdio, no logging between fork and exec.
 */
#include "spawn.h"

extern char **environ;
#include "mem.h"
#include "runas.h"

#include <norc/plugin.h>

#include <dirent.h>
#include <sched.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* Child only: report errno (4 bytes) and the step that failed (1 byte), then exit 127. */
static void child_fail(int fd, char step)
{
	int e = errno;
	char buf[5];
	memcpy(buf, &e, 4);
	buf[4] = step;
	ssize_t w = write(fd, buf, sizeof(buf));
	(void)w;
	_exit(127);
}

static void close_from(int lowfd)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0) == 0)
		return;
#endif
	for (int fd = lowfd; fd < 4096; fd++)
		close(fd);
}

static const char *step_name(char step)
{
	switch (step) {
	case 's': return "setsid";
	case 'i': return "open /dev/null";
	case 'd': return "dup2";
	case 'c': return "chdir";
	case 'l': return "setrlimit (the task's limits)";
	case 'u': return "switching to the task's user";
	case 'e': return "exec";
	default: return "child setup";
	}
}

/* The child's side: async-signal-safe calls only, never returns. In exec mode it shares the
 * parent's memory (the parent is suspended until the exec) on a stack of its own: it writes
 * nothing but its own locals, and dispositions are reset before the signal mask is opened,
 * so no handler of the parent can run in it. */
static void child_main(const struct norc_spawn_req *req, int pfd_r, int pfd_w, pid_t parent)
{
	close(pfd_r);
	if (setsid() < 0)
		child_fail(pfd_w, 's');
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &dfl, NULL);
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull < 0)
		child_fail(pfd_w, 'i');
	if (dup2(devnull, 0) < 0 || dup2(req->log_fd, 1) < 0 || dup2(req->log_fd, 2) < 0)
		child_fail(pfd_w, 'd');
	if (req->nice)
		setpriority(PRIO_PROCESS, 0, req->nice);
	/* keep the status pipe (moved to fd 3) until exec closes it */
	if (dup3(pfd_w, 3, O_CLOEXEC) < 0)
		child_fail(pfd_w, 'd');
	close_from(4);
	char step;
	if (req->runas && norc_runas_apply(req->runas, &step) != 0)
		child_fail(3, step);
	/* after the user switch: a change of uid or gid clears the parent-death signal */
	if (req->parent_death_signal &&
	    (prctl(PR_SET_PDEATHSIG, req->parent_death_signal, 0, 0, 0) != 0 ||
	     getppid() != parent))
		_exit(1); /* the parent is already gone */
	if (req->cwd && chdir(req->cwd) != 0)
		child_fail(3, 'c');
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (req->argv) {
		const char *file = req->path ? req->path : req->argv[0];
		execve(file, req->argv, req->envp);
		if (req->exec_failure_is_task_failure) {
			/* as a shell reports it: on the task's stderr, exit 127 or 126 */
			int e = errno;
			const char *why = strerrordesc_np(e);
			struct iovec v[4] = {{(void *)file, strlen(file)}, {(void *)": ", 2},
					     {(void *)why, why ? strlen(why) : 0}, {(void *)"\n", 1}};
			ssize_t w = writev(2, v, 4);
			(void)w;
			_exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
		}
		child_fail(3, 'e');
	}
	close(3);
	if (req->envp) /* in-child mode: the task's environment, as execve would give it */
		environ = (char **)req->envp;
	int rc = req->run_child ? req->run_child(req->arg) : 127;
	_exit(rc == 0 ? 0 : (rc & 0xff) ? rc & 0xff : 1); /* 256 is not a success */
}

struct child_args {
	const struct norc_spawn_req *req;
	int pfd_r, pfd_w;
	pid_t parent;
};

static int child_entry(void *arg)
{
	const struct child_args *a = arg;
	child_main(a->req, a->pfd_r, a->pfd_w, a->parent);
	return 127; /* not reached */
}

#define CHILD_STACK_SIZE (256 * 1024)

/* The exec-mode child's stack: mapped once, reused (the parent waits for each exec), never
 * freed. NULL when it cannot be mapped: fork() then. */
static char *child_stack(void)
{
	static char *stack;
	if (!stack) {
		void *m = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		stack = m == MAP_FAILED ? NULL : m;
	}
	return stack;
}

int norc_spawn(const struct norc_spawn_req *req, pid_t *pid, char *err, size_t errlen)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return norc_err_set(err, errlen, NORC_EIO, "pipe: %s", strerror(errno));
	pid_t parent = getpid();
	/* no signal handler may run in the child before its dispositions are reset */
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	/* An exec needs no copy of this process. Sharing its memory until the exec saves
	 * copying the page tables of a daemon that holds a database connection and plugins,
	 * the largest cost of a start after the exec itself. This is what glibc's posix_spawn
	 * does (clone with CLONE_VM | CLONE_VFORK and a separate stack, not vfork() on the
	 * caller's stack), done here because posix_spawn cannot set a parent-death signal or a
	 * nice value. In-child plugin code gets a real copy: fork(). */
	pid_t p;
	struct child_args args = {req, pfd[0], pfd[1], parent};
	char *stack = req->argv ? child_stack() : NULL;
	if (stack)
		p = clone(child_entry, stack + CHILD_STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD,
			  &args);
	else if ((p = fork()) == 0)
		child_main(req, pfd[0], pfd[1], parent);
	int fork_errno = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (p < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return norc_err_set(err, errlen, NORC_EIO, "fork: %s", strerror(fork_errno));
	}
	close(pfd[1]);
	char buf[5];
	ssize_t n;
	do
		n = read(pfd[0], buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	if (n == (ssize_t)sizeof(buf)) {
		int e;
		memcpy(&e, buf, 4);
		int st;
		while (waitpid(p, &st, 0) < 0 && errno == EINTR)
			;
		/* the task's own settings (its limits, user, or the directory as that user) are
		 * its error (NORC_EINVAL), not this host's */
		bool task = buf[4] == 'l' || buf[4] == 'u' ||
			    (buf[4] == 'c' && req->runas && req->runas->switch_user);
		return norc_err_set(err, errlen, task ? NORC_EINVAL : NORC_EIO, "%s %s: %s",
				    step_name(buf[4]),
				    buf[4] == 'e' && req->argv ? (req->path ? req->path : req->argv[0])
				    : buf[4] == 'c' && req->cwd ? req->cwd : "",
				    strerror(e));
	}
	*pid = p;
	return NORC_OK;
}

int norc_spawn_kill_group(pid_t pgid, int sig)
{
	if (pgid <= 1)
		return NORC_EINVAL;
	if (kill(-pgid, sig) != 0)
		return errno == ESRCH ? NORC_ENOTFOUND : NORC_EIO;
	return NORC_OK;
}

int norc_spawn_become_subreaper(void)
{
	return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 ? NORC_OK : NORC_EIO;
}

/* ---- sweeps: no process outlives its instance ---- */

/* Start time (clock ticks since boot, /proc/PID/stat field 22) of pid; 0 when it is gone. */
static unsigned long long start_ticks(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
	if (!p)
		return 0;
	/* p is on the space before field 3 (state); step to the space before field 22 */
	p++;
	for (int field = 3; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	return p ? strtoull(p + 1, NULL, 10) : 0;
}

void norc_spawn_identity(uint64_t scope, char *buf, size_t len)
{
	snprintf(buf, len, "%d:%llu:%016llx", (int)getpid(), start_ticks(getpid()),
		 (unsigned long long)scope);
}

/* The value of NAME= in /proc/PID/environ, copied into out; false when absent or unreadable
 * (another user's process, or gone). */
static bool environ_get(pid_t pid, const char *name, char *out, size_t outlen)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	static char buf[65536]; /* single-threaded daemons; environments are small */
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	size_t nl = strlen(name);
	for (char *p = buf; p < buf + n; p += strlen(p) + 1)
		if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
			snprintf(out, outlen, "%s", p + nl + 1);
			return true;
		}
	return false;
}

static void kill_process_and_group(pid_t pid)
{
	pid_t pg = getpgid(pid);
	if (pg > 1 && pg != getpgrp())
		kill(-pg, SIGKILL);
	kill(pid, SIGKILL);
}

int norc_spawn_sweep_dead_executors(uint64_t scope)
{
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	int killed = 0;
	pid_t self = getpid();
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 1 || pid == self)
			continue;
		char tok[64];
		if (!environ_get((pid_t)pid, "NORC_EXECUTOR", tok, sizeof(tok)))
			continue;
		char *p1, *p2, *p3;
		long epid = strtol(tok, &p1, 10);
		unsigned long long ticks = *p1 == ':' ? strtoull(p1 + 1, &p2, 10) : 0;
		unsigned long long sc = ticks && *p2 == ':' ? strtoull(p2 + 1, &p3, 16) : 0;
		if (epid <= 1 || epid > INT32_MAX || !ticks || sc != (unsigned long long)scope)
			continue; /* malformed, or not ours: another installation sweeps its own */
		if (start_ticks((pid_t)epid) == ticks)
			continue; /* its executor still runs: the process is that executor's business */
		kill_process_and_group((pid_t)pid);
		killed++;
	}
	closedir(d);
	return killed;
}

int norc_spawn_kill_orphans(bool (*keep)(void *ctx, int64_t instance_id, pid_t pid), void *ctx)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	static char buf[65536]; /* up to ~9000 pids; single-threaded daemons */
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (n == (ssize_t)sizeof(buf) - 1) { /* cut short: drop the last, maybe partial, pid */
		char *sp = strrchr(buf, ' ');
		if (sp)
			*sp = '\0';
	}
	int killed = 0;
	for (char *p = buf, *end; *p; p = end) {
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		/* without NORC_INSTANCE_ID in its /proc environ: a fork (no exec) of in-child
		 * plugin code, or the run itself; keep() tells by pid (instance id 0) */
		char id[32];
		int64_t inst = environ_get((pid_t)pid, "NORC_INSTANCE_ID", id, sizeof(id))
				       ? strtoll(id, NULL, 10) : 0;
		if (pid > 1 && !keep(ctx, inst, (pid_t)pid)) {
			kill_process_and_group((pid_t)pid);
			killed++;
		}
	}
	return killed;
}
