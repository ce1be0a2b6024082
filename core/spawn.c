/*
 * spawn.c - see spawn.h. The child side is the fixed sequence of c-anchors-style.md rule 22;
 * no malloc, no stdio, no logging between fork and exec.
 */
#include "spawn.h"
#include "mem.h"

#include <norc/plugin.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
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
	case 'e': return "exec";
	default: return "child setup";
	}
}

int norc_spawn(const struct norc_spawn_req *req, pid_t *pid, char *err, size_t errlen)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return norc_err_set(err, errlen, NORC_EIO, "pipe: %s", strerror(errno));
	pid_t parent = getpid();
	pid_t p = fork();
	if (p < 0) {
		int e = errno;
		close(pfd[0]);
		close(pfd[1]);
		return norc_err_set(err, errlen, NORC_EIO, "fork: %s", strerror(e));
	}
	if (p == 0) {
		/* child: async-signal-safe calls only */
		close(pfd[0]);
		if (setsid() < 0)
			child_fail(pfd[1], 's');
		if (req->parent_death_signal &&
		    (prctl(PR_SET_PDEATHSIG, req->parent_death_signal, 0, 0, 0) != 0 ||
		     getppid() != parent))
			_exit(1); /* the parent is already gone */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		struct sigaction dfl;
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		for (int s = 1; s < NSIG; s++)
			if (s != SIGKILL && s != SIGSTOP)
				sigaction(s, &dfl, NULL);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull < 0)
			child_fail(pfd[1], 'i');
		if (dup2(devnull, 0) < 0 || dup2(req->log_fd, 1) < 0 || dup2(req->log_fd, 2) < 0)
			child_fail(pfd[1], 'd');
		if (req->nice)
			setpriority(PRIO_PROCESS, 0, req->nice);
		/* keep the status pipe (moved to fd 3) until exec closes it */
		if (dup3(pfd[1], 3, O_CLOEXEC) < 0)
			child_fail(pfd[1], 'd');
		close_from(4);
		if (req->cwd && chdir(req->cwd) != 0)
			child_fail(3, 'c');
		if (req->argv) {
			execve(req->argv[0], req->argv, req->envp);
			child_fail(3, 'e');
		}
		close(3);
		_exit(req->run_child ? req->run_child(req->arg) & 0xff : 127);
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
		return norc_err_set(err, errlen, NORC_EIO, "%s %s: %s", step_name(buf[4]),
				    buf[4] == 'e' && req->argv ? req->argv[0]
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
