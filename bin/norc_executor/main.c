/*
 * norc_executor QUEUE -c N [-q] [-e] [-d] [-C FILE] - runs instances from one queue.
 *
 * One single-threaded loop around ppoll() on a signalfd: it pops while it has free slots
 * (pop and claim in one short transaction: only the winner of `UPDATE ... WHERE status =
 * CREATED` runs an instance), forks each run (spawn.c: own session and process group, log
 * on stdout/stderr, nice, exec), reaps children on SIGCHLD, enforces timeouts (SIGTERM to the
 * group, then SIGKILL after daemon.kill_grace seconds), heartbeats, and never blocks on a child.
 *
 * Waking up for new work: the queue is polled adaptively - every 50 ms right after work was
 * found, backing off by doubling to 1 s while it stays empty - so an idle executor costs one
 * cheap indexed query per second and new work starts within about a second.
 *
 * SIGINT: drain (no new work; ENDED when the children are done). SIGTERM: kill every
 * child's group (instances INTERRUPTED) and end KILLED. Both as in the original.
 */
#include "clock.h"
#include "config.h"
#include "control.h"
#include "daemon.h"
#include "backup.h"
#include "doorbell.h"
#include "host.h"
#include "db.h"
#include "instance.h"
#include "log.h"
#include "mem.h"
#include "model.h"
#include "params.h"
#include "plugin.h"
#include "queue.h"
#include "runas.h"
#include "receiver.h"
#include "spawn.h"
#include "status.h"
#include "upload.h"

#include <norc/task.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define POLL_MIN_US (50 * 1000)
#define POLL_MAX_US (1000 * 1000)
#define REQUEST_POLL_US (1000 * 1000) /* requests from other hosts: read every second */

struct run {
	bool used;
	pid_t pid;
	int log_fd;
	int64_t instance_id;
	char *label; /* "<Instance #1 of CommandTask DemoTask>" */
	int64_t deadline_us; /* monotonic; 0 = no timeout */
	int64_t kill_at_us;  /* monotonic; SIGKILL after the grace period */
	bool timed_out, interrupted;
	bool may_hold; /* run_info.may_hold: a held run may wait for this one */
	int64_t job_id; /* a job's node: its job instance (run_info.job_instance_id); 0: none */
	const char *why_interrupted; /* static text: "executor killed", "stop deadline passed";
				      * NULL with kill_status (the reason is in the database) */
	int kill_status; /* asked to stop (norc_job_kill_requests): the status to record */
	/* what the plugin's hooks get again after the run (finally): owned */
	const struct norc_plugin_entry *plugin;
	struct norc_run_info ri;
	struct norc_params *params;
	char *abs_log;
	int64_t started_us; /* wall clock */
	/* the finally hook's child runs (pid is its): the task's outcome waits here */
	bool finalizing;
	struct norc_task_result result;
};

/* An instance end the database did not take yet (locked, down): retried every loop turn. */
struct pending_end {
	int64_t instance_id;
	int status, exit_code, term_signal;
	char *reason; /* owned, may be NULL */
	bool cannot_hold; /* norc_instance_end.cannot_hold */
	bool not_in_job;  /* norc_instance_end.not_in_job */
	bool no_retry;    /* norc_instance_end.no_retry */
	int64_t job_id;   /* its job instance when known (0: none, or not loaded) */
	int failures; /* attempts the database refused */
};

struct executor {
	struct norc_config *cfg;
	struct norc_db *db;
	struct norc_queue_handle *q;
	int64_t id;
	int concurrency, running, status;
	struct run *runs;
	int sigfd;
	int bell; /* doorbell socket, -1 when polling only */
	int64_t poll_interval_us, next_poll_us, next_beat_us, next_request_us;
	int64_t stop_deadline_us; /* monotonic; STOP kills what still runs then (0: none) */
	struct norc_reaper reaper;
	FILE *log;
	struct pending_end *pending;
	size_t npending;
	struct norc_uploader up; /* this host's finished logs to the backup store */
	bool remote;             /* the queue waits on a server: items come from rcv */
	struct norc_receiver rcv;
	int64_t rcv_restart_us;  /* monotonic: start the receiver again (0: now) */
	int64_t rcv_backoff_us;  /* after the receiver died: doubles to a minute */
	struct missing { int64_t id, since_us; } missing[64]; /* items whose instance is absent */
	int64_t up_wake_us;      /* monotonic: when the uploader wants its next turn */
};

/* Announce what recording an end did: a retry it created, or a waiting run it released, is
 * rung to the schedulers on this host, which push it when its time comes. */
static void announce_after(struct executor *ex, int64_t id, struct norc_instance_after *after)
{
	if (after->retry_id)
		NORC_INFO("Instance #%" PRId64 " will be retried as instance #%" PRId64 ".", id,
			  after->retry_id);
	if (after->released_id)
		NORC_INFO("Instance #%" PRId64 " (waiting for #%" PRId64 " to end) may run now.",
			  after->released_id, id);
	if (after->retry_id || after->released_id)
		norc_doorbell_ring(ex->cfg, 0);
	norc_uploader_poke(&ex->up); /* its log is complete: on its way to the backup */
	for (int i = 0; i < after->notes.nring; i++)
		if (norc_queue_serves(ex->q, after->notes.ring[i]))
			ex->next_poll_us = 0; /* nodes of a job were queued here: take them now */
	norc_job_notes_flush(ex->cfg, &after->notes); /* job logs, doorbells */
}

/* Record an end (in the caller's transaction, if any); true when the database took it. */
static bool end_instance(struct executor *ex, const struct pending_end *e,
			 struct norc_instance_after *after)
{
	struct norc_instance_end end = {e->status, e->exit_code, e->term_signal, e->reason, false,
					e->cannot_hold, e->not_in_job, e->no_retry};
	if (norc_instance_end(ex->db, e->instance_id, &end, after) != NORC_OK)
		return false;
	/* its log is complete: due for upload in the same transaction (a failure here is
	 * caught by the uploader's sweep, so it does not refuse the end) */
	if (ex->up.tracking)
		norc_upload_instance_due(ex->db, e->instance_id, norc_clock_now_us());
	return true;
}

/* Keep an instance's end for the next transaction: an instance must never stay RUNNING while
 * its executor lives. Ends are written together with the next claim when the queue has
 * work (one transaction instead of two per instance), else at the next loop turn on their
 * own, and retried while the database does not take them. reason is borrowed (NULL: none).
 * job_id: the job instance it is a node of, when known (known: the instance was loaded). */
static void queue_end(struct executor *ex, int64_t id, int status, int code, int sig,
		      const char *reason, bool may_hold, int64_t job_id, bool known)
{
	struct pending_end e = {id, status, code, sig, reason ? norc_xstrdup(reason) : NULL,
				!may_hold, known && !job_id, false, job_id, 0};
	ex->pending = norc_xrealloc(ex->pending, (ex->npending + 1) * sizeof(*ex->pending));
	ex->pending[ex->npending++] = e;
}

/* Record the kept ends one transaction each; those the database refuses stay kept. */
static void record_ends(struct executor *ex)
{
	size_t keep = 0;
	for (size_t i = 0; i < ex->npending; i++) {
		struct pending_end *e = &ex->pending[i];
		struct norc_instance_after after;
		if (end_instance(ex, e, &after)) {
			if (e->failures)
				NORC_INFO("instance #%" PRId64 ": end recorded (%s).", e->instance_id,
					  norc_status_name(e->status));
			announce_after(ex, e->instance_id, &after);
			free(e->reason);
		} else {
			if (e->failures++ == 0)
				NORC_WARN("instance #%" PRId64 ": cannot record its end (%s) yet: %s; "
					  "retrying", e->instance_id, norc_status_name(e->status),
					  norc_db_errmsg(ex->db));
			ex->pending[keep++] = *e;
		}
	}
	ex->npending = keep;
}

/* Inside fill_slots' transaction: write the kept ends too. false (and nothing kept
 * changed) when one fails: the transaction is then rolled back and they go alone. */
static bool ends_in_tx(struct executor *ex, struct norc_instance_after *after)
{
	for (size_t i = 0; i < ex->npending; i++)
		if (!end_instance(ex, &ex->pending[i], &after[i]))
			return false;
	return true;
}

/* Ends of nodes of different jobs in one transaction lock those jobs' rows (job.h): in the
 * same order on every executor, by job, so two of them cannot wait for each other. */
static int by_job(const void *a, const void *b)
{
	const struct pending_end *x = a, *y = b;
	return x->job_id < y->job_id ? -1 : x->job_id > y->job_id;
}

/* The transaction with the kept ends in it was rolled back: what they decided is void. */
static void ends_void(struct norc_instance_after *after, size_t n)
{
	for (size_t i = 0; i < n; i++)
		norc_job_notes_free(&after[i].notes);
}

/* After fill_slots' transaction committed with the kept ends in it. */
static void ends_committed(struct executor *ex, struct norc_instance_after *after)
{
	for (size_t i = 0; i < ex->npending; i++) {
		announce_after(ex, ex->pending[i].instance_id, &after[i]);
		free(ex->pending[i].reason);
	}
	ex->npending = 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: norc_executor QUEUE -c N [-q] [-e] [-d] [-C FILE]\n\n"
		"Runs instances from QUEUE, at most N at a time.\n"
		"  -c, --concurrency N  slots (required)\n"
		"  -q, --create-queue   create QUEUE as a DBQueue if it does not exist\n"
		"  -e, --echo           echo the executor's log to stdout\n"
		"  -d, --debug          debug lines in the log\n"
		"  -C, --config FILE    config file (default: $NORC_CONFIG, else the installed one)\n"
		"SIGINT stops after the running instances end; SIGTERM kills them.\n");
}

/* One stamped line into a task's log; 0, or the errno of a failed write (a full disk). */
__attribute__((format(printf, 2, 3))) static int task_line(int fd, const char *fmt, ...)
{
	char stamp[40], msg[1024];
	norc_log_stamp(norc_clock_now_us(), stamp, sizeof(stamp));
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return dprintf(fd, "%s INFO: %s\n", stamp, msg) < 0 ? errno : 0;
}

/* Why a run's log is incomplete, when it is: its last line could not be written (werr), or
 * its disk has no space left (the task's own writes failed then). NULL: nothing wrong. */
static const char *log_trouble(const struct executor *ex, int fd, int werr, char *buf,
			       size_t len)
{
	struct statvfs vs;
	if (werr) {
		snprintf(buf, len, "its log could not be written completely: %s (log_dir %s)",
			 strerror(werr), ex->cfg->log_dir);
		return buf;
	}
	/* the executor (root) may still write into reserved blocks that the task could not */
	if (fstatvfs(fd, &vs) != 0 || vs.f_bavail != 0)
		return NULL;
	snprintf(buf, len, "its log may be incomplete: the log disk was full when it ended "
		 "(log_dir %s)", ex->cfg->log_dir);
	return buf;
}

static char identity[64]; /* NORC_EXECUTOR: lets sweeps find what a dead executor left */

/* Of the environment the task inherits, what its user's identity replaces. */
static bool identity_var(const char *e, const struct norc_runas *ra)
{
	return ra->switch_user && (strncmp(e, "HOME=", 5) == 0 || strncmp(e, "USER=", 5) == 0 ||
				   strncmp(e, "LOGNAME=", 8) == 0);
}

/* The task's environment: ours without NORC_* and PWD, then NORC_*, PWD (its directory, as a
 * shell would export it), HOME, USER and LOGNAME of the user it runs as (when it switches),
 * and the plugin's extra (which may override any of them). */
static char **build_env(const struct norc_run_info *ri, const struct norc_config *cfg,
			const struct norc_runas *ra, const char *cwd, char *const *extra)
{
	size_t n = 0, m = 0;
	while (environ[n])
		n++;
	while (extra && extra[m])
		m++;
	char **env = norc_xcalloc(n + m + 11, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "NORC_", 5) != 0 && /* ours are set below */
		    strncmp(environ[i], "PWD=", 4) != 0 && !identity_var(environ[i], ra))
			env[k++] = norc_xstrdup(environ[i]);
	if (ra->switch_user) {
		env[k++] = norc_xasprintf("HOME=%s", ra->home);
		env[k++] = norc_xasprintf("USER=%s", ra->user);
		env[k++] = norc_xasprintf("LOGNAME=%s", ra->user);
	}
	char iso[40];
	if (ri->fire_time_us)
		norc_clock_format_iso(ri->fire_time_us, iso, sizeof(iso));
	else
		iso[0] = '\0';
	env[k++] = norc_xasprintf("NORC_INSTANCE_ID=%" PRId64, ri->id);
	env[k++] = norc_xasprintf("NORC_TASK_NAME=%s", ri->task_name);
	env[k++] = norc_xasprintf("NORC_FIRE_TIME=%s", iso);
	env[k++] = norc_xasprintf("NORC_TMP_DIR=%s", cfg->tmp_dir);
	env[k++] = norc_xasprintf("NORC_EXECUTOR=%s", identity);
	env[k++] = norc_xasprintf("NORC_ATTEMPT=%d", ri->attempt);
	env[k++] = norc_xasprintf("PWD=%s", cwd);
	for (size_t i = 0; i < m; i++)
		env[k++] = norc_xstrdup(extra[i]);
	return env;
}

static void free_strv(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

static void set_status(struct executor *ex, int status);

/* A Job instance runs no process and holds no slot: its node instances are created and its
 * roots queued (job.c), and it ends when its nodes have, on whichever host records the last
 * end. false (err set) when it could not be started. */
static bool start_job(struct executor *ex, const struct norc_run_info *ri, const char *label,
		      char *err, size_t errlen)
{
	struct norc_job_started st;
	struct norc_job_notes notes = {0};
	if (norc_job_start(ex->db, ri->id, ri->timeout_s, &st, &notes, err, errlen) != NORC_OK)
		return false;
	NORC_INFO("Started %s: %d node(s), %d queued%s.", label, st.nodes, st.pushed,
		  st.ended ? "; it ended at once" : "");
	if (st.pushed && norc_queue_serves(ex->q, st.queue_id))
		ex->next_poll_us = 0;
	norc_job_notes_flush(ex->cfg, &notes);
	return true;
}

/* What a plugin hook is told about a run. Borrows from ri, params and abs_log. */
static struct norc_task_ctx run_ctx(const struct executor *ex, const struct norc_run_info *ri,
				    const struct norc_params *params, const char *abs_log)
{
	return (struct norc_task_ctx){
		.struct_size = sizeof(struct norc_task_ctx), .instance_id = ri->id,
		.task_id = ri->task_id, .task_name = ri->task_name,
		.fire_time_us = ri->fire_time_us, .params = params, .log_path = abs_log,
		.tmp_dir = ex->cfg->tmp_dir, .timeout_s = ri->timeout_s, .attempt = ri->attempt,
	};
}

/* The statuses a finally hook may turn a run into (its exit code carries it). */
static bool finally_status_ok(int st)
{
	return st == NORC_ST_SUCCESS || st == NORC_ST_FAILURE || st == NORC_ST_ERROR ||
	       st == NORC_ST_TIMEDOUT || st == NORC_ST_INTERRUPTED;
}

/* In a forked child (a copy of the executor, fork(), never the shared-memory spawn): a
 * plugin's run_child or finally. Its return value becomes the child's exit code. */
struct child_call {
	const struct norc_plugin_entry *p;
	struct norc_task_ctx ctx;
	struct norc_task_result result;
};
/* In those children the host API must not reach the executor's database or log (their fds
 * are closed there): the database is NULL and log lines go to stderr, the run's log. */
static void child_host(void)
{
	norc_host_set_db(NULL);
	norc_log_setup(stderr, NORC_LOG_STAMPED, NORC_LOG_INFO, false);
}
static int call_run_child(void *arg)
{
	const struct child_call *c = arg;
	child_host();
	const struct norc_task_ops *o = c->p->desc->ops;
	return o->run_child(c->p->state, &c->ctx);
}
static int call_finally(void *arg)
{
	const struct child_call *c = arg;
	const struct norc_task_ops *o = c->p->desc->ops;
	child_host();
	int st = o->finally(c->p->state, &c->ctx, &c->result);
	return finally_status_ok(st) ? st : st == 0 ? 0 : 1;
}

/* The revision hook (optional, in the daemon: keep it cheap): recorded on the instance. */
static void record_revision(struct executor *ex, const struct norc_plugin_entry *p,
			    const struct norc_task_ctx *ctx, const char *label)
{
	const struct norc_task_ops *o = p->desc->ops;
	char rev[64] = "";
	if (!o->revision || o->revision(p->state, ctx, rev, sizeof(rev)) != NORC_OK || !rev[0])
		return;
	rev[sizeof(rev) - 1] = '\0';
	if (norc_instance_set_revision(ex->db, ctx->instance_id, rev) != NORC_OK)
		NORC_WARN("%s: cannot record its revision '%s': %s", label, rev,
			  norc_db_errmsg(ex->db));
}

/* Spawn the run's process: prepare + exec, or the plugin's run_child in a fork. */
static int spawn_task(struct executor *ex, const struct norc_plugin_entry *p,
		      const struct norc_run_info *ri, const struct norc_task_ctx *ctx, int fd,
		      pid_t *pid, const char *label, char *err, size_t errlen, bool *host_fault)
{
	const struct norc_task_ops *ops = p->desc->ops;
	struct norc_runas ra;
	int rc = norc_runas_resolve(ex->cfg, ri->run_as, ri->limits, &ra, err, errlen);
	if (rc != NORC_OK)
		return rc; /* the task's settings against this host's policy: not a host fault */
	/* a task run as another user starts in that user's home (the executor's tmp_dir may be
	 * closed to it), unless its plugin names a directory */
	const char *dir = ra.switch_user ? ra.home : ex->cfg->tmp_dir;
	if (p->desc->flags & NORC_TASK_INCHILD) {
		fflush(NULL); /* the child may exit(): our buffered lines must not come out twice */
		char **env = build_env(ri, ex->cfg, &ra, dir, NULL);
		struct child_call call = {.p = p, .ctx = *ctx};
		struct norc_spawn_req req = {
			.envp = env, .cwd = dir, .log_fd = fd, .nice = ri->nice,
			.run_child = call_run_child, .arg = &call, .parent_death_signal = SIGKILL,
			.runas = &ra,
		};
		rc = norc_spawn(&req, pid, err, errlen);
		*host_fault = rc != NORC_OK && rc != NORC_EINVAL;
		free_strv(env);
		return rc;
	}
	struct norc_exec_plan plan = {.struct_size = sizeof(plan)};
	if ((rc = ops->prepare(p->state, ctx, &plan, err, errlen)) != NORC_OK) {
		if (!err[0]) /* a plugin that gave no reason must not leave the run unended */
			snprintf(err, errlen, "plugin %s: prepare failed (%s)", p->desc->name,
				 norc_strerror(rc));
		return rc; /* the task's parameters: its failure, not the host's */
	}
	if (plan.preamble && write(fd, plan.preamble, strlen(plan.preamble)) < 0)
		NORC_WARN("%s: cannot write its log: %s", label, strerror(errno));
	const char *cwd = plan.cwd ? plan.cwd : dir;
	char **env = build_env(ri, ex->cfg, &ra, cwd, plan.envp);
	struct norc_spawn_req req = {
		.argv = plan.argv, .path = plan.path, .envp = env,
		/* a plugin that names the file (CommandTask's direct exec) stands for the
		 * shell: a bad file is the task's failure, not this host's */
		.exec_failure_is_task_failure = plan.path != NULL,
		.cwd = cwd, .log_fd = fd, .nice = ri->nice,
		.parent_death_signal = SIGKILL, /* it dies with its executor */
		.runas = &ra,
	};
	rc = norc_spawn(&req, pid, err, errlen);
	*host_fault = rc != NORC_OK && rc != NORC_EINVAL;
	free_strv(env);
	ops->plan_free(p->state, &plan);
	return rc;
}

/* Start instance id in slot r. On failure the instance is finished ERROR with the reason; a
 * failure of this host rather than of the task (its log cannot be written, its task type is
 * not installed here, no process can be made) also suspends the executor: the next instance
 * would fail the same way, so it takes no more work until an operator fixes it and sends
 * RESUME. */
static void start_run(struct executor *ex, struct run *r, int64_t id)
{
	bool host_fault = false;
	struct norc_run_info ri;
	char err[512] = "";
	int rc = norc_instance_load(ex->db, id, &ri);
	if (rc != NORC_OK) {
		char why[600];
		snprintf(why, sizeof(why), "could not start: cannot load it: %s",
			 norc_db_errmsg(ex->db));
		NORC_ERROR("instance #%" PRId64 " %s; it is marked ERROR", id, why);
		queue_end(ex, id, NORC_ST_ERROR, -1, 0, why, true, 0, false); /* not loaded: look */
		record_ends(ex);
		return;
	}
	char *label = norc_xasprintf("<Instance #%" PRId64 " of %s %s>", id, ri.task_type,
				     ri.task_name);
	NORC_INFO("Starting %s...", label);
	char *abs_log = NULL;
	int fd = norc_daemon_open_file(ex->cfg, ri.log_path, &abs_log);
	const struct norc_plugin_entry *p = norc_plugin_find(NORC_KIND_TASK, ri.task_type);
	struct norc_params *params = NULL;
	pid_t pid;
	if (fd < 0)
		host_fault = snprintf(err, sizeof(err), "cannot open its log %s/%s: %s",
				      ex->cfg->log_dir, ri.log_path, strerror(errno));
	else if (!p)
		host_fault = snprintf(err, sizeof(err), "task type %s is not a loaded plugin on "
				      "this host (`norc plugins` lists them; check plugin_dirs)",
				      ri.task_type);
	else if (norc_params_from_json(ri.params_json, &params, err, sizeof(err)) == NORC_OK) {
		struct norc_task_ctx ctx = run_ctx(ex, &ri, params, abs_log);
		task_line(fd, "Starting %s.", label);
		if (p->desc->flags & NORC_TASK_JOB) {
			if (start_job(ex, &ri, label, err, sizeof(err)))
				err[0] = '\0';
		} else {
			record_revision(ex, p, &ctx, label);
			if (spawn_task(ex, p, &ri, &ctx, fd, &pid, label, err, sizeof(err),
				       &host_fault) == NORC_OK) {
				*r = (struct run){
					.used = true, .pid = pid, .log_fd = fd, .instance_id = id,
					.label = label, .may_hold = ri.may_hold,
					.job_id = ri.job_instance_id,
					.deadline_us = ri.timeout_s
							       ? norc_clock_mono_us() +
									 ri.timeout_s * NORC_US_PER_SEC
							       : 0,
					.plugin = p, .ri = ri, .params = params, .abs_log = abs_log,
					.started_us = norc_clock_now_us(),
				};
				ex->running++;
				if (ri.job_instance_id && ri.job_log_path) {
					struct norc_job_notes notes = {0};
					norc_job_note(&notes, ri.job_log_path, "Node %s (instance #%"
						      PRId64 ") started on executor #%" PRId64 ".",
						      ri.node_name ? ri.node_name : "?", id, ex->id);
					norc_job_notes_flush(ex->cfg, &notes);
				}
				return; /* the run owns label, fd, ri, params and abs_log now */
			}
		}
	}
	if (err[0]) {
		NORC_ERROR("%s could not start: %s", label, err);
		if (fd >= 0) {
			task_line(fd, "Task could not start: %s", err);
			task_line(fd, "Task ended with status ERROR.");
		}
		char why[600];
		snprintf(why, sizeof(why), "could not start: %s", err);
		queue_end(ex, id, NORC_ST_ERROR, -1, 0, why, ri.may_hold, ri.job_instance_id, true);
		record_ends(ex); /* at once: recorded before the executor says SUSPENDED */
		if (host_fault && ex->status == NORC_ST_RUNNING) {
			NORC_ERROR("Executor suspended: this host cannot start instances (%s). Fix "
				   "it, then: norc_control executor %" PRId64 " --resume", err, ex->id);
			set_status(ex, NORC_ST_SUSPENDED);
		}
	}
	if (fd >= 0)
		close(fd);
	norc_params_free(params);
	free(label);
	free(abs_log);
	norc_run_info_free(&ri);
}

/* Pop and claim while there are free slots. true when something was found. The ends kept
 * by queue_end go into the first transaction. */
static bool fill_slots(struct executor *ex)
{
	bool found = false, with_ends = true;
	int busy = 0;
	while (ex->status == NORC_ST_RUNNING && ex->running < ex->concurrency && busy < 3) {
		char err[512] = "";
		int64_t id = 0;
		bool won = false;
		int rc = norc_db_begin_write(ex->db);
		if (rc != NORC_OK) { /* locked or down: look again at the next poll */
			NORC_WARN("queue %s: cannot start a transaction: %s", ex->q->name,
				  norc_db_errmsg(ex->db));
			break;
		}
		size_t nends = with_ends ? ex->npending : 0;
		if (nends > 1)
			qsort(ex->pending, nends, sizeof(*ex->pending), by_job);
		struct norc_instance_after *after =
			nends ? norc_xcalloc(nends, sizeof(*after)) : NULL;
		if (nends && !ends_in_tx(ex, after)) {
			norc_db_rollback(ex->db);
			ends_void(after, nends);
			free(after);
			record_ends(ex); /* alone, so that a bad one does not stop the queue */
			with_ends = false;
			continue;
		}
		rc = ex->q->ops->pop(ex->q->h, &id, err, sizeof(err));
		if (rc == NORC_OK)
			rc = norc_instance_claim(ex->db, id, ex->id, &won);
		if (rc == NORC_OK && won && ex->up.tracking) /* its log is written here */
			rc = norc_upload_track_instance(ex->db, ex->up.host, id);
		if (rc == NORC_OK || (rc == NORC_EAGAIN && nends)) {
			int crc = norc_db_commit(ex->db);
			rc = crc == NORC_OK ? rc : crc;
		} else
			norc_db_rollback(ex->db);
		if (nends && (rc == NORC_OK || rc == NORC_EAGAIN))
			ends_committed(ex, after);
		else
			ends_void(after, nends);
		free(after);
		if (rc == NORC_EAGAIN)
			break;
		if (rc == NORC_EBUSY) {
			busy++; /* lost a race for the head item, or the database is locked */
			continue;
		}
		if (rc != NORC_OK) {
			NORC_ERROR("queue %s: pop failed: %s; retrying at the next poll", ex->q->name,
				   err[0] ? err : norc_db_errmsg(ex->db));
			break;
		}
		found = true;
		if (!won) {
			NORC_INFO("Instance #%" PRId64 " was claimed elsewhere; skipping it.", id);
			continue;
		}
		for (int i = 0; i < ex->concurrency; i++)
			if (!ex->runs[i].used) {
				start_run(ex, &ex->runs[i], id);
				break;
			}
	}
	if (ex->npending) /* the pop failed or found nothing to commit with: alone, now */
		record_ends(ex);
	return found;
}

/* An item whose instance is not in the database: handed back while it may still be
 * committed; after 2 min it is taken for the push of a transaction that rolled back, and
 * dropped. true: drop it now. Remembers up to 64 such items (older ones are forgotten). */
static bool missing_too_long(struct executor *ex, int64_t id)
{
	int64_t now = norc_clock_mono_us();
	struct missing *oldest = &ex->missing[0];
	for (int i = 0; i < 64; i++) {
		struct missing *m = &ex->missing[i];
		if (m->id == id)
			return now - m->since_us > 120 * NORC_US_PER_SEC;
		if (m->since_us < oldest->since_us)
			oldest = m;
	}
	*oldest = (struct missing){id, now};
	return false;
}

/* An item from the receiver (a queue that waits on a server): claim it in a transaction of
 * its own, then ack it; or hand it back (nack) when it cannot be claimed now. */
static void claim_remote(struct executor *ex, int64_t id)
{
	if (ex->status != NORC_ST_RUNNING || ex->running >= ex->concurrency) {
		norc_receiver_nack(&ex->rcv, id, 0); /* no slot any more: for someone else */
		return;
	}
	bool won = false;
	int rc = norc_db_begin_write(ex->db);
	if (rc == NORC_OK)
		rc = norc_instance_claim(ex->db, id, ex->id, &won);
	if (rc == NORC_OK && won && ex->up.tracking)
		rc = norc_upload_track_instance(ex->db, ex->up.host, id);
	rc = rc == NORC_OK ? norc_db_commit(ex->db) : (norc_db_rollback(ex->db), rc);
	if (rc != NORC_OK) {
		NORC_WARN("queue %s: cannot claim instance #%" PRId64 ": %s; handed back for 5 s",
			  ex->q->name, id, norc_db_errmsg(ex->db));
		norc_receiver_nack(&ex->rcv, id, 5);
		return;
	}
	ex->rcv_backoff_us = 0; /* the receiver works */
	if (won) {
		norc_receiver_ack(&ex->rcv, id);
		for (int i = 0; i < ex->concurrency; i++)
			if (!ex->runs[i].used) {
				start_run(ex, &ex->runs[i], id);
				break;
			}
		return;
	}
	int64_t st = 0;
	rc = norc_db_query_int64(ex->db, "SELECT status FROM instances WHERE id = ?", &st, 1, id);
	if (rc == NORC_OK) { /* a duplicate or redelivered item */
		NORC_INFO("Instance #%" PRId64 " was claimed elsewhere (%s); its queue item is "
			  "removed.", id, norc_status_name((int)st));
		norc_receiver_ack(&ex->rcv, id);
	} else if (rc == NORC_ENOTFOUND && missing_too_long(ex, id)) {
		NORC_WARN("Instance #%" PRId64 " has not appeared in the database for 2 min: its "
			  "push belonged to a transaction that rolled back; its queue item is "
			  "dropped.", id);
		norc_receiver_ack(&ex->rcv, id);
	} else { /* not committed yet, or the database did not answer */
		NORC_INFO("Instance #%" PRId64 " is not in the database %s; handed back for 5 s.", id,
			  rc == NORC_ENOTFOUND ? "(yet)" : "now");
		norc_receiver_nack(&ex->rcv, id, 5);
	}
}

/* The receiver's turn in the loop: keep it running and asking for as many items as there
 * are free slots; claim what it delivered. */
static void feed_receiver(struct executor *ex, int64_t mono, bool readable)
{
	if (readable) {
		int64_t ids[64];
		size_t n;
		do {
			norc_receiver_read(&ex->rcv, ids, 64, &n);
			for (size_t i = 0; i < n; i++)
				claim_remote(ex, ids[i]);
		} while (n == 64);
	}
	if (ex->status != NORC_ST_RUNNING) {
		norc_receiver_cancel(&ex->rcv);
		return;
	}
	if (!ex->rcv.pid && mono >= ex->rcv_restart_us) {
		char err[512];
		if (norc_receiver_start(&ex->rcv, ex->q, err, sizeof(err)) != NORC_OK) {
			NORC_WARN("queue %s: %s; trying again in 5 s", ex->q->name, err);
			ex->rcv_restart_us = mono + 5 * NORC_US_PER_SEC;
			return;
		}
	}
	int free_slots = ex->concurrency - ex->running;
	if (ex->rcv.pid && free_slots > ex->rcv.wanted)
		norc_receiver_want(&ex->rcv, free_slots - ex->rcv.wanted);
}

/* keep() for norc_spawn_kill_orphans: descendants of instances still running here stay. */
static bool instance_running(void *ctx, int64_t instance_id, pid_t pid)
{
	const struct executor *ex = ctx;
	if ((ex->up.batch.pid && pid == ex->up.batch.pid) || (ex->rcv.pid && pid == ex->rcv.pid))
		return true; /* the log upload child, the queue's receiver (whatever their env) */
	for (int i = 0; i < ex->concurrency; i++)
		if (ex->runs[i].used && (instance_id ? ex->runs[i].instance_id == instance_id
						      : ex->runs[i].pid == pid))
			return true;
	return false; /* instance_id 0: a fork of in-child plugin code (see spawn.h) */
}

/* The task ended: run the plugin's finally hook in a child of its own, with its own timeout
 * (daemon.finally_timeout), before the end is recorded. false: there is none, or it could not
 * be started (said in the log). */
static bool start_finally(struct executor *ex, struct run *r, int status, int code, int sig)
{
	const struct norc_task_ops *o = r->plugin ? r->plugin->desc->ops : NULL;
	if (!o || !o->finally)
		return false;
	struct child_call call = {
		.p = r->plugin,
		.ctx = run_ctx(ex, &r->ri, r->params, r->abs_log),
		.result = {.struct_size = sizeof(struct norc_task_result), .status = status,
			   .exit_code = code, .term_signal = sig, .timed_out = r->timed_out,
			   .started_us = r->started_us, .ended_us = norc_clock_now_us()},
	};
	task_line(r->log_fd, "Task ended with status %s; running its finally hook (at most %d s).",
		  norc_status_name(status), ex->cfg->finally_timeout_s);
	fflush(NULL); /* the child may exit(): our buffered lines must not come out twice */
	char err[400];
	struct norc_runas ra; /* the hook runs as the task did, within its limits */
	if (norc_runas_resolve(ex->cfg, r->ri.run_as, r->ri.limits, &ra, err, sizeof(err)) !=
	    NORC_OK) {
		task_line(r->log_fd, "Cannot run the finally hook: %s.", err);
		return false;
	}
	const char *dir = ra.switch_user ? ra.home : ex->cfg->tmp_dir;
	char **env = build_env(&r->ri, ex->cfg, &ra, dir, NULL);
	struct norc_spawn_req req = {
		.envp = env, .cwd = dir, .log_fd = r->log_fd, .nice = r->ri.nice,
		.run_child = call_finally, .arg = &call, .parent_death_signal = SIGKILL,
		.runas = &ra,
	};
	pid_t pid;
	int rc = norc_spawn(&req, &pid, err, sizeof(err));
	free_strv(env);
	if (rc != NORC_OK) {
		task_line(r->log_fd, "Cannot run the finally hook: %s.", err);
		return false;
	}
	r->result = call.result;
	r->pid = pid;
	r->finalizing = true;
	r->timed_out = r->interrupted = false;
	r->kill_at_us = 0;
	r->deadline_us = norc_clock_mono_us() + ex->cfg->finally_timeout_s * NORC_US_PER_SEC;
	return true;
}

/* How the finally hook's child ended changes the task's outcome (status). */
static int after_finally(struct executor *ex, struct run *r, int wstatus)
{
	int status = r->result.status;
	const char *was = norc_status_name(status);
	if (r->timed_out) {
		task_line(r->log_fd, "The finally hook timed out after %d s.",
			  ex->cfg->finally_timeout_s);
		return NORC_ST_TIMEDOUT;
	}
	if (WIFSIGNALED(wstatus)) {
		task_line(r->log_fd, "The finally hook was killed by signal %d (SIG%s); the status "
			  "stays %s.", WTERMSIG(wstatus), sigabbrev_np(WTERMSIG(wstatus)), was);
		return status;
	}
	int c = WEXITSTATUS(wstatus);
	if (finally_status_ok(c) && c != status) {
		task_line(r->log_fd, "The finally hook changed the status from %s to %s.", was,
			  norc_status_name(c));
		return c;
	}
	if (c != 0 && !finally_status_ok(c))
		task_line(r->log_fd, "The finally hook failed (exit %d); the status stays %s.", c,
			  was);
	return status;
}

static void finish_run(struct executor *ex, struct run *r, int wstatus)
{
	int status, code = -1, sig = 0;
	/* nothing the task (or its finally hook) started may outlive it: kill its group */
	norc_spawn_kill_group(r->pid, SIGKILL);
	if (r->finalizing) {
		status = after_finally(ex, r, wstatus);
		code = r->result.exit_code;
		sig = r->result.term_signal;
	} else {
		if (WIFEXITED(wstatus)) {
			code = WEXITSTATUS(wstatus);
			status = code == 0 ? NORC_ST_SUCCESS : NORC_ST_FAILURE;
			if (code == 126 || code == 127)
				task_line(r->log_fd, "Invalid command: exit %d means the command "
					  "was %s.", code,
					  code == 127 ? "not found" : "found but could not be run");
		} else {
			sig = WTERMSIG(wstatus);
			status = NORC_ST_FAILURE;
			task_line(r->log_fd, "Task was killed by signal %d (SIG%s).", sig,
				  sigabbrev_np(sig));
		}
		if (r->timed_out)
			status = NORC_ST_TIMEDOUT;
		else if (r->interrupted)
			status = r->kill_status ? r->kill_status : NORC_ST_INTERRUPTED;
		/* the task's reason, kept (static text) through its finally hook */
		r->why_interrupted = r->timed_out ? "timed out" : r->interrupted ? r->why_interrupted
										 : NULL;
		if (start_finally(ex, r, status, code, sig))
			return; /* recorded when the hook ends */
	}
	int werr = task_line(r->log_fd, "Task ended with status %s.", norc_status_name(status));
	char trouble[400];
	const char *why = r->finalizing && r->timed_out ? "the finally hook timed out"
							 : r->why_interrupted;
	if (!why && (why = log_trouble(ex, r->log_fd, werr, trouble, sizeof(trouble))))
		NORC_WARN("%s: %s", r->label, why);
	close(r->log_fd);
	queue_end(ex, r->instance_id, status, code, sig, why, r->may_hold, r->job_id, true);
	if (r->finalizing && r->timed_out) /* the hook ran too long, not the task: no retry */
		ex->pending[ex->npending - 1].no_retry = true;
	NORC_INFO("%s ended with status %s.", r->label, norc_status_name(status));
	free(r->label);
	free(r->abs_log);
	norc_params_free(r->params);
	norc_run_info_free(&r->ri);
	*r = (struct run){0};
	ex->running--;
	/* what left the group (setsid) and was reparented to us dies with its instance too */
	int n = norc_spawn_kill_orphans(instance_running, ex);
	if (n)
		NORC_INFO("Killed %d leftover process(es) of ended instances.", n);
	if (ex->poll_interval_us == POLL_MIN_US)
		ex->next_poll_us = 0; /* the queue had work at the last look: refill the slot now */
}

static void reap(struct executor *ex)
{
	for (;;) {
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			return;
		for (int i = 0; i < ex->concurrency; i++)
			if (ex->runs[i].used && ex->runs[i].pid == pid) {
				finish_run(ex, &ex->runs[i], st);
				break;
			}
		norc_uploader_reaped(&ex->up, ex->db, pid, st);
		if (norc_receiver_reaped(&ex->rcv, pid) && ex->status == NORC_ST_RUNNING) {
			ex->rcv_backoff_us = ex->rcv_backoff_us ? ex->rcv_backoff_us * 2
							       : NORC_US_PER_SEC;
			if (ex->rcv_backoff_us > 60 * NORC_US_PER_SEC)
				ex->rcv_backoff_us = 60 * NORC_US_PER_SEC;
			NORC_WARN("queue %s: its receiver process ended (%s %d); starting another "
				  "in %d s", ex->q->name, WIFSIGNALED(st) ? "signal" : "status",
				  WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
				  (int)(ex->rcv_backoff_us / NORC_US_PER_SEC));
			ex->rcv_restart_us = norc_clock_mono_us() + ex->rcv_backoff_us;
		}
		/* other pids: orphaned descendants reparented to us (subreaper) */
	}
}

/* The log size cap (daemon.log_max_mb): a run whose log grew past it is stopped like a kill
 * (SIGTERM, SIGKILL after the grace) and ends FAILURE with the reason in its log and row. */
static void check_log_size(struct executor *ex, struct run *r, int64_t mono)
{
	struct stat sb;
	int64_t cap = (int64_t)ex->cfg->log_max_mb * 1024 * 1024;
	if (!cap || r->interrupted || r->timed_out || r->finalizing || fstat(r->log_fd, &sb) != 0 ||
	    sb.st_size <= cap)
		return;
	r->interrupted = true;
	r->kill_status = NORC_ST_FAILURE;
	r->why_interrupted = "its log passed daemon.log_max_mb";
	r->kill_at_us = mono + ex->cfg->kill_grace_s * NORC_US_PER_SEC;
	task_line(r->log_fd, "The log reached %lld bytes, over daemon.log_max_mb (%d MiB): stopping "
		  "the task.", (long long)sb.st_size, ex->cfg->log_max_mb);
	NORC_WARN("%s: its log passed daemon.log_max_mb (%d MiB); sending SIGTERM to its process "
		  "group.", r->label, ex->cfg->log_max_mb);
	norc_spawn_kill_group(r->pid, SIGTERM);
}

static void check_timeouts(struct executor *ex, int64_t mono)
{
	for (int i = 0; i < ex->concurrency; i++) {
		struct run *r = &ex->runs[i];
		if (!r->used)
			continue;
		check_log_size(ex, r, mono);
		if (r->deadline_us && !r->timed_out && !r->interrupted && mono >= r->deadline_us) {
			r->timed_out = true;
			if (!r->kill_at_us)
				r->kill_at_us = mono + ex->cfg->kill_grace_s * NORC_US_PER_SEC;
			task_line(r->log_fd, r->finalizing ? "The finally hook timed out!"
							   : "Task timed out!");
			NORC_INFO("%s timed out; sending SIGTERM to its process group.", r->label);
			norc_spawn_kill_group(r->pid, SIGTERM);
		} else if (r->kill_at_us > 0 && mono >= r->kill_at_us) {
			r->kill_at_us = -1; /* sent */
			NORC_INFO("%s still running after the grace period; SIGKILL.", r->label);
			norc_spawn_kill_group(r->pid, SIGKILL);
		}
	}
}

/* Interrupt every running instance (SIGTERM to its group, SIGKILL after kill_grace). */
static void kill_all(struct executor *ex, const char *why)
{
	int64_t mono = norc_clock_mono_us();
	for (int i = 0; i < ex->concurrency; i++) {
		struct run *r = &ex->runs[i];
		if (!r->used || r->interrupted || r->timed_out)
			continue; /* already being stopped: keep its first cause and deadline */
		r->interrupted = true;
		if (!r->finalizing) /* a finally hook's run keeps the task's own reason */
			r->why_interrupted = why;
		r->kill_at_us = mono + ex->cfg->kill_grace_s * NORC_US_PER_SEC;
		NORC_INFO("Killing process for %s.", r->label);
		task_line(r->log_fd, "Interrupt signal received!");
		norc_spawn_kill_group(r->pid, SIGTERM);
	}
}

/* Running instances of ours someone asked to stop (their job timed out or was stopped,
 * `norc_control instance ID --kill`): SIGTERM to the group, SIGKILL after the grace; the end
 * records the status asked for. One indexed query, only while something runs. */
static void take_kill_requests(struct executor *ex)
{
	if (!ex->running)
		return;
	int64_t ids[64];
	int st[64], n = 0;
	if (norc_job_kill_requests(ex->db, ex->id, ids, st, 64, &n) != NORC_OK)
		return; /* the next look gets them */
	int64_t mono = norc_clock_mono_us();
	for (int k = 0; k < n; k++)
		for (int i = 0; i < ex->concurrency; i++) {
			struct run *r = &ex->runs[i];
			if (!r->used || r->instance_id != ids[k] || r->interrupted || r->timed_out ||
			    r->finalizing) /* its finally hook runs: it has its own timeout */
				continue;
			r->interrupted = true;
			r->why_interrupted = NULL;
			r->kill_status = st[k];
			r->kill_at_us = mono + ex->cfg->kill_grace_s * NORC_US_PER_SEC;
			NORC_INFO("%s was asked to stop; sending SIGTERM to its process group.",
				  r->label);
			task_line(r->log_fd, "Stop requested (see the instance's reason).");
			norc_spawn_kill_group(r->pid, SIGTERM);
		}
}

static void set_status(struct executor *ex, int status)
{
	ex->status = status;
	int req;
	if (norc_daemon_heartbeat(ex->db, ex->id, status, &req) != NORC_OK) /* written at once */
		NORC_WARN("cannot record status %s: %s", norc_status_name(status),
			  norc_db_errmsg(ex->db));
}

static bool stopping(const struct executor *ex)
{
	return ex->status == NORC_ST_STOPPING || ex->status == NORC_ST_KILLED;
}

/* STOP (request or SIGINT): no new work; the running instances may finish until
 * daemon.stop_timeout, then they are killed (INTERRUPTED) and the executor ends ENDED. */
static void begin_stop(struct executor *ex)
{
	if (stopping(ex))
		return;
	set_status(ex, NORC_ST_STOPPING);
	if (ex->cfg->stop_timeout_s > 0 && ex->running)
		ex->stop_deadline_us =
			norc_clock_mono_us() + (int64_t)ex->cfg->stop_timeout_s * NORC_US_PER_SEC;
	NORC_INFO("Stopping once %d running instance(s) end (at most %d s).", ex->running,
		  ex->cfg->stop_timeout_s);
	norc_daemon_notify("STOPPING=1\nSTATUS=Stopping: waiting for the running instances");
}

static void handle_request(struct executor *ex, int req)
{
	norc_control_take(ex->db, ex->id, req);
	NORC_INFO("Request received: %s", norc_control_name(req));
	switch (req) {
	case NORC_REQ_STOP:
		begin_stop(ex);
		break;
	case NORC_REQ_KILL:
		set_status(ex, NORC_ST_KILLED);
		kill_all(ex, "executor killed");
		break;
	case NORC_REQ_PAUSE:
		if (ex->status == NORC_ST_RUNNING)
			set_status(ex, ex->running ? NORC_ST_PAUSING : NORC_ST_PAUSED);
		break;
	case NORC_REQ_RESUME:
		if (ex->status == NORC_ST_PAUSED || ex->status == NORC_ST_PAUSING ||
		    ex->status == NORC_ST_SUSPENDED) {
			set_status(ex, NORC_ST_RUNNING);
			ex->next_poll_us = 0;
		} else {
			NORC_INFO("Must be paused or suspended to resume; clearing request.");
		}
		break;
	default:
		NORC_INFO("An executor does not take %s; clearing request.", norc_control_name(req));
	}
}

static int64_t next_wake(const struct executor *ex, int64_t mono)
{
	int64_t t = ex->next_beat_us;
	if (ex->next_request_us < t)
		t = ex->next_request_us;
	if (ex->stop_deadline_us && ex->stop_deadline_us < t)
		t = ex->stop_deadline_us;
	if (!ex->remote && ex->status == NORC_ST_RUNNING && ex->running < ex->concurrency &&
	    ex->next_poll_us < t)
		t = ex->next_poll_us;
	if (ex->up_wake_us < t)
		t = ex->up_wake_us;
	if (ex->remote && !ex->rcv.pid && ex->status == NORC_ST_RUNNING && ex->rcv_restart_us < t)
		t = ex->rcv_restart_us;
	if (ex->npending && mono + NORC_US_PER_SEC < t)
		t = mono + NORC_US_PER_SEC; /* retry unrecorded ends every second */
	for (int i = 0; i < ex->concurrency; i++) {
		const struct run *r = &ex->runs[i];
		if (r->used && r->deadline_us && !r->timed_out && r->deadline_us < t)
			t = r->deadline_us;
		if (r->used && r->kill_at_us > 0 && r->kill_at_us < t)
			t = r->kill_at_us;
	}
	return t > mono ? t - mono : 0;
}

static int run_loop(struct executor *ex)
{
	ex->next_poll_us = ex->next_beat_us = norc_clock_mono_us();
	ex->poll_interval_us = POLL_MIN_US;
	for (;;) {
		int64_t mono = norc_clock_mono_us();
		bool fill_due = !ex->remote && ex->status == NORC_ST_RUNNING &&
				mono >= ex->next_poll_us && ex->running < ex->concurrency;
		if (ex->npending && !fill_due)
			record_ends(ex); /* else they go with the next claim */
		if (mono >= ex->next_beat_us) {
			int req = 0;
			int hb = norc_daemon_heartbeat(ex->db, ex->id, ex->status, &req);
			if (hb == NORC_ENOTFOUND && ex->status != NORC_ST_KILLED) {
				/* its instances were given up (ERROR or retried elsewhere): running
				 * them on would run them twice */
				NORC_ERROR("This executor was declared dead by another daemon (no "
					   "heartbeat for %d s: the database was out of its reach); "
					   "killing its %d instance(s) and stopping.",
					   ex->cfg->heartbeat_timeout_s, ex->running);
				ex->status = NORC_ST_KILLED;
				kill_all(ex, "executor declared dead");
			} else if (hb != NORC_OK && hb != NORC_ENOTFOUND) {
				NORC_WARN("heartbeat failed: %s", norc_db_errmsg(ex->db));
			}
			ex->next_beat_us = mono + ex->cfg->heartbeat_s * NORC_US_PER_SEC;
			int64_t lost;
			norc_daemon_reap_dead(ex->db, ex->id, ex->cfg, hb == NORC_OK, &ex->reaper, &lost);
			if (req)
				handle_request(ex, req);
			take_kill_requests(ex);
			ex->next_request_us = mono + REQUEST_POLL_US;
		} else if (mono >= ex->next_request_us) {
			/* requests from other hosts arrive within a second: one primary-key read */
			int req = 0;
			if (norc_daemon_request(ex->db, ex->id, &req) == NORC_OK && req)
				handle_request(ex, req);
			take_kill_requests(ex);
			ex->next_request_us = mono + REQUEST_POLL_US;
		}
		if (ex->status == NORC_ST_STOPPING && ex->stop_deadline_us && ex->running &&
		    mono >= ex->stop_deadline_us) {
			NORC_WARN("Stop deadline (%d s) passed; killing %d running instance(s).",
				  ex->cfg->stop_timeout_s, ex->running);
			kill_all(ex, "stop deadline passed");
			ex->stop_deadline_us = 0;
		}
		if (ex->remote)
			feed_receiver(ex, mono, false);
		else if (ex->status == NORC_ST_RUNNING && mono >= ex->next_poll_us) {
			bool found = fill_slots(ex);
			ex->poll_interval_us = found ? POLL_MIN_US
						     : (ex->poll_interval_us * 2 > POLL_MAX_US
								? POLL_MAX_US
								: ex->poll_interval_us * 2);
			ex->next_poll_us = norc_clock_mono_us() + ex->poll_interval_us;
		}
		check_timeouts(ex, norc_clock_mono_us());
		if (ex->status == NORC_ST_PAUSING && ex->running == 0)
			set_status(ex, NORC_ST_PAUSED);
		if (ex->npending && stopping(ex) && ex->running == 0)
			record_ends(ex);
		if (stopping(ex) && ex->running == 0 &&
		    (ex->npending == 0 || ex->status == NORC_ST_KILLED))
			return ex->status == NORC_ST_STOPPING ? NORC_ST_ENDED : NORC_ST_KILLED;
		ex->up_wake_us = norc_uploader_tick(&ex->up, ex->db, norc_clock_mono_us());
		int64_t wait = next_wake(ex, norc_clock_mono_us());
		struct timespec ts = {.tv_sec = wait / NORC_US_PER_SEC,
				      .tv_nsec = (wait % NORC_US_PER_SEC) * 1000};
		struct pollfd pfd[3] = {{.fd = ex->sigfd, .events = POLLIN},
					{.fd = ex->bell, .events = POLLIN},
					{.fd = ex->rcv.res_fd, .events = POLLIN}};
		int n = ppoll(pfd, 3, &ts, NULL); /* negative fds are ignored */
		if (n < 0 && errno != EINTR && ex->status != NORC_ST_KILLED) {
			NORC_ERROR("ppoll: %s; killing the running instances and stopping",
				   strerror(errno));
			ex->status = NORC_ST_KILLED;
			kill_all(ex, "executor failed");
		}
		if (n < 0)
			reap(ex);
		if (n <= 0)
			continue;
		if (ex->rcv.res_fd >= 0 && (pfd[2].revents & (POLLIN | POLLHUP)))
			feed_receiver(ex, norc_clock_mono_us(), true);
		if (ex->bell >= 0 && (pfd[1].revents & POLLIN)) {
			int seen = norc_doorbell_drain(ex->bell);
			if (seen & NORC_BELL_WORK) { /* new work was pushed on this host: look now */
				ex->next_poll_us = 0;
				ex->poll_interval_us = POLL_MIN_US;
			}
			if (seen & NORC_BELL_REQUEST)
				ex->next_beat_us = 0; /* a request waits: read it now */
		}
		struct signalfd_siginfo si;
		while (read(ex->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo == SIGCHLD) {
				reap(ex);
			} else if (si.ssi_signo == SIGHUP) {
				norc_daemon_reload_config(ex->cfg);
			} else if (si.ssi_signo == SIGINT && !stopping(ex)) {
				NORC_INFO("Signal 'SIGINT' received!");
				begin_stop(ex);
			} else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
				NORC_INFO("Signal '%s' received! Killing %d running instance(s).",
					  si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT", ex->running);
				set_status(ex, NORC_ST_KILLED);
				kill_all(ex, "executor killed");
			}
		}
		reap(ex); /* a SIGCHLD may have been merged with another signal */
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {{"concurrency", required_argument, NULL, 'c'},
					   {"create-queue", no_argument, NULL, 'q'},
					   {"echo", no_argument, NULL, 'e'},
					   {"debug", no_argument, NULL, 'd'},
					   {"config", required_argument, NULL, 'C'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	const char *config = NULL;
	long conc = 0;
	bool create = false, echo = false, debug = false;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:qedC:h", lo, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'c':
			conc = strtol(optarg, &end, 10);
			if (*end || conc < 1 || conc > 4096) {
				fprintf(stderr, "norc_executor: error: -c '%s': give 1..4096 slots\n",
					optarg);
				return 2;
			}
			break;
		case 'q': create = true; break;
		case 'e': echo = true; break;
		case 'd': debug = true; break;
		case 'C': config = optarg; break;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, "norc_executor: error: unknown option or missing value: %s "
				"(see --help)\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind + 1 != argc || conc == 0) {
		fprintf(stderr, "norc_executor: error: give one QUEUE and -c N (see --help)\n");
		return 2;
	}
	const char *qname = argv[optind];
	norc_log_setup(stderr, NORC_LOG_PLAIN, debug ? NORC_LOG_DEBUG : NORC_LOG_INFO, false);

	struct executor ex = {.concurrency = (int)conc, .status = NORC_ST_RUNNING, .sigfd = -1,
			      .bell = -1};
	char err[512] = "";
	int64_t qid = 0;
	if (norc_daemon_open("norc_executor", config, &ex.cfg, &ex.db) != NORC_OK)
		return 1;
	int rc = NORC_OK;
	{
		rc = norc_model_queue_find(ex.db, qname, &qid, err, sizeof(err));
		if (rc == NORC_ENOTFOUND && create)
			rc = norc_model_queue_add(ex.db, qname, "DBQueue", "{}", &qid, err, sizeof(err));
		else if (rc == NORC_ENOTFOUND)
			snprintf(err + strlen(err), sizeof(err) - strlen(err),
				 "; or pass -q to create it as a DBQueue");
	}
	if (rc == NORC_OK)
		rc = norc_queue_open(ex.db, qid, &ex.q, err, sizeof(err));
	if (rc == NORC_OK)
		rc = norc_daemon_register(ex.db, "executor", qid, ex.concurrency, &ex.id);
	if (rc != NORC_OK) {
		fprintf(stderr, "norc_executor: error: %s\n", err[0] ? err : norc_db_errmsg(ex.db));
		norc_db_close(ex.db);
		norc_config_free(ex.cfg);
		return 1;
	}
	char *rel = norc_xasprintf("executors/executor-%" PRId64, ex.id);
	char *abs = NULL;
	int lfd = norc_daemon_open_file(ex.cfg, rel, &abs);
	if (lfd < 0 || !(ex.log = fdopen(lfd, "a"))) {
		fprintf(stderr, "norc_executor: error: cannot open log %s: %s; check log_dir\n", abs,
			strerror(errno));
		norc_daemon_end(ex.db, ex.id, NORC_ST_ERROR);
		free(rel);
		return 1;
	}
	free(abs);
	norc_log_setup(ex.log, NORC_LOG_STAMPED, debug ? NORC_LOG_DEBUG : NORC_LOG_INFO, echo);
	norc_uploader_init(&ex.up, ex.cfg);
	norc_uploader_track_daemon(&ex.up, ex.db, ex.id, rel);
	free(rel);

	ex.sigfd = norc_daemon_signalfd();
	if (ex.sigfd < 0) {
		fprintf(stderr, "norc_executor: error: signalfd: %s; raise the open-file limit "
			"(ulimit -n)\n", strerror(errno));
		norc_daemon_end(ex.db, ex.id, NORC_ST_ERROR);
		return 1;
	}
	char *bell_path = NULL;
	norc_doorbell_open(ex.cfg, qid, &ex.bell, &bell_path);
	/* a queue group: work pushed onto any of its queues rings this executor too */
	char **aliases = norc_xcalloc(ex.q->nmembers + 1, sizeof(char *));
	for (size_t i = 0; ex.bell >= 0 && i < ex.q->nmembers; i++)
		aliases[i] = norc_doorbell_alias(ex.cfg, bell_path, ex.q->members[i]);
	if (norc_spawn_become_subreaper() != NORC_OK)
		NORC_WARN("cannot become a child subreaper: %s", strerror(errno));
	ex.runs = norc_xcalloc((size_t)ex.concurrency, sizeof(struct run));
	norc_spawn_identity(norc_config_db_scope(ex.cfg), identity, sizeof(identity));
	int swept = norc_spawn_sweep_dead_executors(norc_config_db_scope(ex.cfg));
	if (swept)
		NORC_WARN("Killed %d process(es) left on this host by executors that died.", swept);
	ex.remote = norc_queue_is_remote(ex.q);
	ex.rcv.cmd_fd = ex.rcv.res_fd = -1;
	NORC_INFO("<Executor #%" PRId64 "> on queue %s with %d slot(s) initialized; starting...",
		  ex.id, qname, ex.concurrency);
	char ready[160];
	snprintf(ready, sizeof(ready), "READY=1\nSTATUS=Executor #%" PRId64 " on queue %s, %d "
		 "slot(s)", ex.id, qname, ex.concurrency);
	norc_daemon_notify(ready);
	int final = run_loop(&ex);
	norc_daemon_notify("STOPPING=1");
	NORC_INFO("Shutting down...");
	norc_receiver_stop(&ex.rcv);
	norc_spawn_kill_orphans(instance_running, &ex); /* nothing runs: every leftover goes */
	norc_daemon_end(ex.db, ex.id, final);
	NORC_INFO("<Executor #%" PRId64 "> has been shut down successfully (%s).", ex.id,
		  norc_status_name(final));
	norc_uploader_finish(&ex.up, ex.db, ex.id);
	for (size_t i = 0; i < ex.q->nmembers; i++)
		norc_doorbell_unalias(aliases[i]);
	free(aliases);
	norc_doorbell_close(ex.bell, bell_path);
	free(ex.runs);
	free(ex.pending);
	norc_queue_close(ex.q);
	norc_plugin_unload_all();
	norc_db_close(ex.db);
	norc_config_free(ex.cfg);
	fclose(ex.log);
	close(ex.sigfd);
	return final == NORC_ST_ERROR ? 1 : 0;
}
