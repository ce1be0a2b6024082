/*
 * receiver.c - see receiver.h. The receiver child's loop and the executor's side of its
 * pipes.
 */
#include "receiver.h"
#include "clock.h"
#include "log.h"
#include "mem.h"

#include <norc/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TOUCH_EVERY_MS 5000
#define BACKOFF_MAX_MS 30000
#define EMPTY_FLOOR_MS 1000 /* at most one empty pop a second */
#define ACK_WAIT_MS 500     /* after handing over an item, wait this long for its ack */

/* An optional op of ABI 1.4, or NULL when the plugin's ops are older. */
#define OPT_OP(o, field)                                                                       \
	((o)->struct_size >= offsetof(struct norc_queue_ops, field) + sizeof((o)->field)       \
		 ? (o)->field : NULL)

/* ---- the child ---- */

struct child {
	struct norc_queue_handle *q;
	int res;
	int want, held;
	int64_t retry_at, touched; /* monotonic ms */
	int64_t delivered;         /* monotonic ms of the last item handed to the executor */
	int backoff_ms;
};

static int64_t now_ms(void) { return norc_clock_mono_us() / 1000; }

static void say(struct child *c, char kind, const char *text)
{
	char line[600];
	int n = snprintf(line, sizeof(line), "%c %s", kind, text);
	for (int i = 2; i < n && i < (int)sizeof(line) - 1; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	dprintf(c->res, "%.*s\n", n < (int)sizeof(line) ? n : (int)sizeof(line) - 1, line);
}

static void command(struct child *c, char *line)
{
	const struct norc_queue_ops *o = c->q->ops;
	char err[512] = "";
	long long id = 0;
	int d = 0, rc = NORC_OK;
	switch (line[0]) {
	case 'W': c->want += (int)strtol(line + 1, NULL, 10); break;
	case 'C': c->want = 0; break;
	case 'Q': fflush(NULL); _exit(0);
	case 'A':
		id = strtoll(line + 1, NULL, 10);
		if (OPT_OP(o, ack))
			rc = o->ack(c->q->h, id, err, sizeof(err));
		c->held -= c->held > 0;
		break;
	case 'N':
		if (sscanf(line + 1, "%lld %d", &id, &d) != 2)
			break;
		if (OPT_OP(o, nack))
			rc = o->nack(c->q->h, id, d, err, sizeof(err));
		c->held -= c->held > 0;
		break;
	}
	if (rc != NORC_OK) {
		char msg[600];
		snprintf(msg, sizeof(msg), "%s of instance #%lld failed: %s",
			 line[0] == 'A' ? "ack" : "nack", id, err[0] ? err : "no reason given");
		say(c, 'E', msg);
	}
}

/* Read and run every command waiting on fd; exits when the executor closed its end. */
static void commands(struct child *c, int fd, char *buf, size_t *len, size_t cap)
{
	for (;;) {
		ssize_t r = read(fd, buf + *len, cap - 1 - *len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			fflush(NULL);
			_exit(0); /* the executor is gone */
		}
		if (r < 0)
			return; /* EAGAIN: all read */
		*len += (size_t)r;
		buf[*len] = '\0';
		char *p = buf, *nl;
		while ((nl = strchr(p, '\n'))) {
			*nl = '\0';
			command(c, p);
			p = nl + 1;
		}
		*len -= (size_t)(p - buf);
		memmove(buf, p, *len);
	}
}

static void pop_one(struct child *c)
{
	char err[512] = "";
	int64_t id = 0;
	int64_t t0 = now_ms();
	int rc = c->q->ops->pop(c->q->h, &id, err, sizeof(err));
	if (rc == NORC_EAGAIN && now_ms() - t0 < EMPTY_FLOOR_MS) {
		/* an empty answer that came at once (no long polling): not again at once */
		c->retry_at = t0 + EMPTY_FLOOR_MS;
		c->backoff_ms = 0;
		return;
	}
	if (rc == NORC_OK) {
		char t[32];
		snprintf(t, sizeof(t), "%" PRId64, id);
		say(c, 'I', t);
		c->want--;
		c->held++;
		c->delivered = now_ms();
	}
	if (rc == NORC_OK || rc == NORC_EAGAIN) {
		c->backoff_ms = 0;
		return;
	}
	c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : 1000;
	if (c->backoff_ms > BACKOFF_MAX_MS)
		c->backoff_ms = BACKOFF_MAX_MS;
	c->retry_at = now_ms() + c->backoff_ms;
	char msg[600];
	snprintf(msg, sizeof(msg), "pop failed: %s; trying again in %d s",
		 err[0] ? err : "no reason given", c->backoff_ms / 1000);
	say(c, 'E', msg);
}

static void __attribute__((noreturn)) child_main(struct norc_queue_handle *q, int cmd, int res,
						  pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	/* a Ctrl-C to the executor's process group is the executor's to handle: the child
	 * ends when told (Q), when the executor closes its pipe, or dies with it (PDEATHSIG) */
	struct sigaction ign = {.sa_handler = SIG_IGN};
	sigaction(SIGPIPE, &ign, NULL);
	sigaction(SIGINT, &ign, NULL);
	sigaction(SIGHUP, &ign, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	fcntl(cmd, F_SETFL, O_NONBLOCK);
	struct child c = {.q = q, .res = res, .touched = now_ms()};
	char buf[4096];
	size_t len = 0;
	int (*touch)(void *, char *, size_t) = OPT_OP(q->ops, touch);
	for (;;) {
		int64_t now = now_ms();
		int timeout = -1;
		/* an item just handed over is acked within milliseconds: wait for that (up to
		 * ACK_WAIT_MS) before the next long poll, which would hold the ack until it ends */
		int64_t next_pop = c.retry_at;
		if (c.held > 0 && c.delivered + ACK_WAIT_MS > next_pop)
			next_pop = c.delivered + ACK_WAIT_MS;
		if (c.want > 0)
			timeout = now < next_pop ? (int)(next_pop - now) : 0;
		if (c.held > 0 && touch) {
			int t = (int)(c.touched + TOUCH_EVERY_MS - now);
			if (t < 0)
				t = 0;
			if (timeout < 0 || t < timeout)
				timeout = t;
		}
		struct pollfd p = {.fd = cmd, .events = POLLIN};
		if (poll(&p, 1, timeout) > 0)
			commands(&c, cmd, buf, &len, sizeof(buf));
		now = now_ms();
		if (c.held > 0 && touch && now >= c.touched + TOUCH_EVERY_MS) {
			char err[512] = "";
			if (touch(q->h, err, sizeof(err)) != NORC_OK) {
				char msg[600];
				snprintf(msg, sizeof(msg), "touch failed: %s", err);
				say(&c, 'E', msg);
			}
			c.touched = now;
		}
		if (c.want > 0 && now >= c.retry_at &&
		    (c.held == 0 || now >= c.delivered + ACK_WAIT_MS))
			pop_one(&c);
		fflush(NULL); /* what the plugin logged */
	}
}

/* ---- the executor's side ---- */

int norc_receiver_start(struct norc_receiver *r, struct norc_queue_handle *q, char *err,
			size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->cmd_fd = r->res_fd = -1;
	snprintf(r->name, sizeof(r->name), "%s", q->name);
	int cmd[2], res[2];
	if (pipe2(cmd, O_CLOEXEC) != 0)
		return norc_err_set(err, errlen, NORC_EIO, "receiver: pipe: %s", strerror(errno));
	if (pipe2(res, O_CLOEXEC) != 0) {
		close(cmd[0]);
		close(cmd[1]);
		return norc_err_set(err, errlen, NORC_EIO, "receiver: pipe: %s", strerror(errno));
	}
	fflush(NULL);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		close(cmd[1]);
		close(res[0]);
		child_main(q, cmd[0], res[1], parent);
	}
	close(cmd[0]);
	close(res[1]);
	if (pid < 0) {
		close(cmd[1]);
		close(res[0]);
		return norc_err_set(err, errlen, NORC_EIO, "receiver: fork: %s", strerror(errno));
	}
	fcntl(cmd[1], F_SETFL, O_NONBLOCK);
	fcntl(res[0], F_SETFL, O_NONBLOCK);
	r->pid = pid;
	r->cmd_fd = cmd[1];
	r->res_fd = res[0];
	return NORC_OK;
}

static void send_line(struct norc_receiver *r, const char *line)
{
	if (r->cmd_fd < 0)
		return;
	size_t n = strlen(line);
	ssize_t w = write(r->cmd_fd, line, n); /* short lines into a 64 KiB pipe */
	if (w != (ssize_t)n)
		NORC_WARN("queue %s: receiver: cannot send '%.*s' (%s)", r->name, (int)n - 1, line,
			  w < 0 ? strerror(errno) : "short write");
}

void norc_receiver_want(struct norc_receiver *r, int n)
{
	if (n <= 0)
		return;
	char line[32];
	snprintf(line, sizeof(line), "W %d\n", n);
	send_line(r, line);
	r->wanted += n;
}

void norc_receiver_cancel(struct norc_receiver *r)
{
	if (r->wanted) {
		send_line(r, "C\n");
		r->wanted = 0;
	}
}

void norc_receiver_ack(struct norc_receiver *r, int64_t id)
{
	char line[48];
	snprintf(line, sizeof(line), "A %" PRId64 "\n", id);
	send_line(r, line);
}

void norc_receiver_nack(struct norc_receiver *r, int64_t id, int delay_s)
{
	char line[64];
	snprintf(line, sizeof(line), "N %" PRId64 " %d\n", id, delay_s);
	send_line(r, line);
}

/* Take complete lines from r->buf while there is room in ids; the rest stays for the next
 * call. */
static void parse(struct norc_receiver *r, int64_t *ids, size_t max, size_t *n)
{
	r->buf[r->len] = '\0';
	char *p = r->buf, *nl;
	while (*n < max && (nl = strchr(p, '\n'))) {
		*nl = '\0';
		if (p[0] == 'I') {
			ids[(*n)++] = strtoll(p + 2, NULL, 10);
			r->wanted -= r->wanted > 0;
		} else if (p[0] == 'E') {
			NORC_WARN("queue %s: receiver: %s", r->name, p + 2);
		}
		p = nl + 1;
	}
	r->len -= (size_t)(p - r->buf);
	memmove(r->buf, p, r->len);
}

bool norc_receiver_read(struct norc_receiver *r, int64_t *ids, size_t max, size_t *n)
{
	*n = 0;
	bool open = r->res_fd >= 0;
	parse(r, ids, max, n); /* lines kept from the last call first */
	while (open && *n < max && r->len < sizeof(r->buf) - 1) {
		ssize_t got = read(r->res_fd, r->buf + r->len, sizeof(r->buf) - 1 - r->len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got == 0)
			open = false;
		if (got <= 0)
			break;
		r->len += (size_t)got;
		parse(r, ids, max, n);
	}
	if (r->len == sizeof(r->buf) - 1 && !memchr(r->buf, '\n', r->len))
		r->len = 0; /* a line longer than the buffer: dropped */
	return open;
}

static void close_fds(struct norc_receiver *r)
{
	if (r->cmd_fd >= 0)
		close(r->cmd_fd);
	if (r->res_fd >= 0)
		close(r->res_fd);
	r->cmd_fd = r->res_fd = -1;
	r->wanted = 0;
	r->len = 0;
}

bool norc_receiver_reaped(struct norc_receiver *r, pid_t pid)
{
	if (!r->pid || pid != r->pid)
		return false;
	r->pid = 0;
	close_fds(r);
	return true;
}

void norc_receiver_stop(struct norc_receiver *r)
{
	if (r->pid) {
		/* items delivered but not taken go back now, not after their visibility timeout */
		int64_t ids[64];
		size_t n;
		do {
			norc_receiver_read(r, ids, 64, &n);
			for (size_t i = 0; i < n; i++)
				norc_receiver_nack(r, ids[i], 0);
		} while (n == 64);
		send_line(r, "Q\n");
		/* the acks and nacks sent are done before Q; a child in a long poll reads them
		 * only when the poll ends: what it did not do comes back after the visibility
		 * timeout, and the claim decides again */
		for (int i = 0; i < 50; i++) {
			if (waitpid(r->pid, NULL, WNOHANG) == r->pid) {
				r->pid = 0;
				break;
			}
			nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
		}
		if (r->pid) { /* in a long poll: it would answer only when that ends */
			kill(r->pid, SIGKILL);
			waitpid(r->pid, NULL, 0);
			r->pid = 0;
		}
	}
	close_fds(r);
}
