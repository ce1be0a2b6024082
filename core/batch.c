/*
 * batch.c - see batch.h. The forked worker shared by the log uploader and the alerter.
 */
#include "batch.h"
#include "clock.h"
#include "log.h"
#include "status.h"

#include <norc/plugin.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ITEMS 64

void norc_batch_init(struct norc_batch *b) { *b = (struct norc_batch){.pipe_fd = -1}; }

int norc_batch_start(struct norc_batch *b, void (*run)(void *ctx, int wfd), void *ctx,
		     int64_t deadline_mono_us, const char *what)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0) {
		NORC_WARN("%s: pipe: %s; retrying later", what, strerror(errno));
		return NORC_ERR;
	}
	fflush(NULL); /* nothing buffered is written twice */
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		NORC_WARN("%s: fork: %s; retrying later", what, strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return NORC_ERR;
	}
	if (pid == 0) {
		close(fds[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent) /* the daemon died before the line above */
			_exit(1);
		sigset_t none;
		sigemptyset(&none);
		struct sigaction ign = {.sa_handler = SIG_IGN};
		sigaction(SIGPIPE, &ign, NULL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		run(ctx, fds[1]);
		fflush(NULL); /* what the child logged */
		_exit(0);
	}
	close(fds[1]);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	b->pid = pid;
	b->pipe_fd = fds[0];
	b->killed = false;
	b->deadline_us = deadline_mono_us;
	return NORC_OK;
}

void norc_batch_report_start(int wfd, int64_t id) { dprintf(wfd, "S %" PRId64 "\n", id); }

void norc_batch_report(int wfd, int64_t id, int rc, const char *msg)
{
	char m[NORC_BATCH_MSG];
	snprintf(m, sizeof(m), "%s", msg && *msg ? msg : "-");
	for (char *c = m; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	dprintf(wfd, "R %" PRId64 " %d %s\n", id, rc, m);
}

bool norc_batch_overdue(struct norc_batch *b, int64_t mono)
{
	if (!b->pid || b->killed || mono < b->deadline_us)
		return false;
	kill(b->pid, SIGKILL);
	b->killed = true;
	return true;
}

void norc_batch_collect(struct norc_batch *b, int wstatus, const int64_t *ids, size_t n,
			struct norc_batch_result *res, const char *limit_name)
{
	for (size_t i = 0; i < n; i++) {
		res[i].started = false;
		res[i].rc = NORC_EIO;
		if (WIFSIGNALED(wstatus))
			snprintf(res[i].msg, sizeof(res[i].msg), "the worker process was killed by "
				 "signal %d%s%s", WTERMSIG(wstatus), b->killed ? " after " : "",
				 b->killed ? limit_name : "");
		else
			snprintf(res[i].msg, sizeof(res[i].msg), "the worker process ended (status "
				 "%d) during this item", WEXITSTATUS(wstatus));
	}
	char buf[MAX_ITEMS * 256 + 1];
	size_t len = 0;
	for (;;) {
		ssize_t r = read(b->pipe_fd, buf + len, sizeof(buf) - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || (len += (size_t)r) == sizeof(buf) - 1)
			break;
	}
	buf[len] = '\0';
	for (char *line = buf, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = '\0';
		char kind = line[0], *end;
		int64_t id = strtoll(line + 1, &end, 10);
		size_t i = 0;
		while (i < n && ids[i] != id)
			i++;
		if (i == n)
			continue;
		res[i].started = true;
		if (kind != 'R')
			continue;
		res[i].rc = (int)strtol(end, &end, 10);
		snprintf(res[i].msg, sizeof(res[i].msg), "%s", *end == ' ' ? end + 1 : end);
	}
	close(b->pipe_fd);
	b->pipe_fd = -1;
	b->pid = 0;
}

bool norc_batch_wait(struct norc_batch *b, int *wstatus)
{
	int64_t give_up = INT64_MAX;
	while (b->pid) {
		pid_t r = waitpid(b->pid, wstatus, WNOHANG);
		if (r == b->pid)
			return true;
		int64_t mono = norc_clock_mono_us();
		if ((r < 0 && errno != EINTR) || mono >= give_up)
			break;
		if (norc_batch_overdue(b, mono))
			give_up = mono + 5 * NORC_US_PER_SEC;
		nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
	}
	if (b->pipe_fd >= 0)
		close(b->pipe_fd);
	b->pipe_fd = -1;
	b->pid = 0;
	return false;
}
