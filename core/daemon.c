/*
 * daemon.c - see daemon.h.
 */
#include "daemon.h"
#include "clock.h"
#include "model.h"
#include "status.h"

#include "host.h"
#include "instance.h"
#include "log.h"
#include "mem.h"
#include "plugin.h"
#include "schema.h"
#include "spawn.h"

#include <norc/version.h>

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef NORC_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

int norc_daemon_register(struct norc_db *db, const char *kind, int64_t queue_id, int concurrency,
			 int64_t *id)
{
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	int64_t now = norc_clock_now_us();
	struct norc_arg a[] = {NORC_AS(kind), NORC_AS(host), NORC_AI(getpid()),
			       NORC_AI(NORC_ST_RUNNING), NORC_AI(now), NORC_AI(now),
			       queue_id ? NORC_AI(queue_id) : NORC_AS(NULL), NORC_AI(concurrency),
			       NORC_AS(NORC_VERSION_STRING)};
	int rc = norc_model_exec(db,
				 "INSERT INTO daemons (kind, host, pid, status, heartbeat, started, "
				 "queue_id, concurrency, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
				 a, sizeof(a) / sizeof(a[0]), NULL);
	if (rc == NORC_OK)
		*id = norc_db_last_insert_id(db);
	return rc;
}

int norc_daemon_heartbeat(struct norc_db *db, int64_t id, int status, int *request)
{
	/* never over a final status someone else wrote (ERROR from a reaper, HANDLED): a daemon
	 * declared dead must not come back to life in the table */
	int64_t n = 0;
	struct norc_arg a[] = {NORC_AI(norc_clock_now_us()), NORC_AI(status), NORC_AI(id),
			       NORC_AI(NORC_ST_SUCCESS), NORC_AI(status)};
	int rc = norc_model_exec(db, "UPDATE daemons SET heartbeat = ?, status = ? WHERE id = ? "
				 "AND (status < ? OR status = ?)", a, 5, &n);
	*request = 0;
	if (rc != NORC_OK)
		return rc;
	if (n != 1)
		return NORC_ENOTFOUND;
	return norc_daemon_request(db, id, request);
}

int norc_daemon_request(struct norc_db *db, int64_t id, int *request)
{
	int64_t req = 0;
	int rc = norc_db_query_int64(db, "SELECT COALESCE(request, 0) FROM daemons WHERE id = ?",
				     &req, 1, id);
	*request = (int)req;
	return rc;
}

int norc_daemon_end(struct norc_db *db, int64_t id, int status)
{
	int64_t now = norc_clock_now_us();
	struct norc_arg a[] = {NORC_AI(status), NORC_AI(now), NORC_AI(now), NORC_AI(id),
			       NORC_AI(NORC_ST_SUCCESS), NORC_AI(status)};
	return norc_model_exec(db,
			       "UPDATE daemons SET status = ?, heartbeat = ?, ended = ? WHERE id = ? "
			       "AND (status < ? OR status = ?)", a, 6, NULL);
}

/* Inside a transaction: every RUNNING instance of dead executor id ends ERROR "executor
 * lost", and is retried when its task says so (instance.c). */
static int lose_instances(struct norc_db *db, int64_t executor_id, int64_t *lost,
			  struct norc_job_notes *notes)
{
	static const struct norc_col cols[] = {{"id", NORC_COL_INT}};
	struct norc_arg a[] = {NORC_AI(executor_id), NORC_AI(NORC_ST_RUNNING)};
	json_t *rows;
	int rc = norc_model_query(db, "SELECT id FROM instances i WHERE executor_id = ? AND ended "
				  "IS NULL AND status = ? AND NOT EXISTS (SELECT 1 FROM instances n "
				  "WHERE n.job_instance_id = i.id)", a, 2, cols, 1, &rows);
	if (rc != NORC_OK)
		return rc;
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		int64_t id = json_integer_value(json_object_get(row, "id"));
		struct norc_instance_end end = {NORC_ST_ERROR, -1, 0, "executor lost", true, false,
						false, false};
		struct norc_instance_after after;
		rc = norc_instance_end(db, id, &end, &after);
		if (rc != NORC_OK)
			break;
		norc_job_notes_move(notes, &after.notes);
		*lost += after.recorded;
		if (after.retry_id)
			NORC_INFO("Instance #%" PRId64 " (executor lost) will be retried as instance "
				  "#%" PRId64 ".", id, after.retry_id);
	}
	json_decref(rows);
	return rc;
}

int norc_daemon_give_up_work(struct norc_db *db, int64_t id, bool executor, int64_t *lost,
			      struct norc_job_notes *notes)
{
	*lost = 0;
	if (executor)
		return lose_instances(db, id, lost, notes);
	struct norc_arg f[] = {NORC_AI(id)};
	return norc_model_exec(db, "UPDATE schedules SET lease_owner = NULL, lease_until = NULL "
			       "WHERE lease_owner = ?", f, 1, NULL);
}

int norc_daemon_release_orphans(struct norc_db *db, int64_t *released)
{
	struct norc_arg a[] = {NORC_AI(NORC_ST_SUCCESS)};
	return norc_model_exec(db, "UPDATE schedules SET lease_owner = NULL, lease_until = NULL "
			       "WHERE lease_owner IN (SELECT id FROM daemons WHERE kind = "
			       "'scheduler' AND status >= ?)", a, 1, released);
}

int norc_daemon_reap_dead(struct norc_db *db, int64_t self_id, const struct norc_config *cfg,
			  bool beat_ok, struct norc_reaper *r, int64_t *lost_instances)
{
	*lost_instances = 0;
	int timeout_s = cfg->heartbeat_timeout_s;
	int64_t mono = norc_clock_mono_us();
	if (!beat_ok) {
		r->good_since_us = 0;
		return NORC_OK;
	}
	if (!r->good_since_us || mono - r->last_good_us > (2 * cfg->heartbeat_s + 1) * NORC_US_PER_SEC)
		r->good_since_us = mono; /* first good beat after a gap: watch a full timeout */
	r->last_good_us = mono;
	if (mono - r->good_since_us < (int64_t)timeout_s * NORC_US_PER_SEC)
		return NORC_OK;
	int64_t cutoff = norc_clock_now_us() - (int64_t)timeout_s * NORC_US_PER_SEC;
	static const struct norc_col cols[] = {
		{"id", NORC_COL_INT}, {"kind", NORC_COL_TEXT}, {"host", NORC_COL_TEXT}};
	char self_host[256] = "";
	gethostname(self_host, sizeof(self_host) - 1);
	struct norc_arg a[] = {NORC_AI(NORC_ST_SUCCESS), NORC_AI(cutoff), NORC_AI(self_id)};
	json_t *rows;
	int rc = norc_model_query(db,
				  "SELECT id, kind, host FROM daemons WHERE status < ? AND heartbeat < ? "
				  "AND id <> ?", a, 3, cols, 3, &rows);
	if (rc != NORC_OK)
		return rc;
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		int64_t id = json_integer_value(json_object_get(row, "id"));
		bool executor = strcmp(json_string_value(json_object_get(row, "kind")), "executor") == 0;
		int64_t n = 0, lost = 0;
		int64_t now = norc_clock_now_us();
		if (norc_db_begin_write(db) != NORC_OK)
			break;
		/* the heartbeat condition again: a daemon that beat meanwhile is not dead */
		struct norc_arg d[] = {NORC_AI(NORC_ST_ERROR), NORC_AI(now), NORC_AI(id),
				       NORC_AI(NORC_ST_SUCCESS), NORC_AI(cutoff)};
		rc = norc_model_exec(db, "UPDATE daemons SET status = ?, ended = ? WHERE id = ? AND "
				     "status < ? AND heartbeat < ?", d, 5, &n);
		struct norc_job_notes notes = {0};
		if (rc == NORC_OK && n == 1)
			rc = norc_daemon_give_up_work(db, id, executor, &lost, &notes);
		if (rc == NORC_OK)
			rc = norc_db_commit(db);
		else
			norc_db_rollback(db);
		if (rc == NORC_OK)
			norc_job_notes_flush(cfg, &notes);
		else
			norc_job_notes_free(&notes);
		if (rc == NORC_OK && n == 1) {
			NORC_WARN("%s #%" PRId64 " is dead (no heartbeat for %d s): marked ERROR%s",
				  executor ? "executor" : "scheduler", id, timeout_s,
				  executor ? "; its running instances were lost" : "; its schedules "
				  "are released");
			if (lost)
				NORC_WARN("%" PRId64 " instance(s) of executor #%" PRId64 " marked ERROR "
					  "(executor lost)", lost, id);
			*lost_instances += lost;
			const char *h = json_string_value(json_object_get(row, "host"));
			int swept = executor && h && strcmp(h, self_host) == 0
					    ? norc_spawn_sweep_dead_executors(norc_config_db_scope(cfg))
					    : 0;
			if (swept)
				NORC_WARN("killed %d process(es) executor #%" PRId64 " left on this "
					  "host", swept, id);
		}
	}
	json_decref(rows);
	return rc;
}

int norc_daemon_open(const char *prog, const char *config_path, struct norc_config **cfg,
		     struct norc_db **db)
{
	char err[512] = "", *pw = NULL;
	struct norc_db_config dc;
	*db = NULL;
	/* a daemon started by a task is not that task's leftover: sweeps must not take it */
	unsetenv("NORC_EXECUTOR");
	int rc = norc_config_load(norc_config_pick(config_path), cfg, err, sizeof(err));
	if (rc == NORC_OK)
		rc = norc_config_db(*cfg, &dc, &pw, err, sizeof(err));
	if (rc == NORC_OK)
		rc = norc_db_open(&dc, db, err, sizeof(err));
	free(pw);
	if (rc == NORC_OK)
		rc = norc_schema_check(*db, err, sizeof(err));
	if (rc != NORC_OK) {
		fprintf(stderr, "%s: error: %s\n", prog, err);
		norc_db_close(*db);
		norc_config_free(*cfg);
		*db = NULL;
		*cfg = NULL;
		return rc;
	}
	norc_host_set_db(*db);
	norc_plugin_load_all(*cfg);
	return NORC_OK;
}

void norc_daemon_reload_config(struct norc_config *cfg)
{
	char note[128] = "", err[512] = "";
	if (norc_config_reload(cfg, note, sizeof(note), err, sizeof(err)) != NORC_OK) {
		NORC_ERROR("SIGHUP: the config was not reloaded, the running one stays: %s", err);
		return;
	}
	NORC_INFO("SIGHUP: config %s reloaded (heartbeat %d s, heartbeat_timeout %d s, "
		  "stop_timeout %d s, kill_grace %d s, log_dir %s).", cfg->file, cfg->heartbeat_s,
		  cfg->heartbeat_timeout_s, cfg->stop_timeout_s, cfg->kill_grace_s, cfg->log_dir);
	if (note[0])
		NORC_WARN("SIGHUP: changed settings that need a restart to take effect:%s", note);
}

int norc_daemon_open_file(const struct norc_config *cfg, const char *rel, char **abs_out)
{
	char *abs = norc_xasprintf("%s/%s", cfg->log_dir, rel);
	const int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW;
	/* the directory usually exists (one per task): make it only when the open says so */
	int fd = open(abs, flags, 0640);
	if (fd < 0 && errno == ENOENT) {
		int ok = 1;
		for (char *s = abs + 1; *s && ok; s++) {
			if (*s != '/')
				continue;
			*s = '\0';
			if (mkdir(abs, 0755) != 0 && errno != EEXIST)
				ok = 0;
			*s = '/';
		}
		if (ok)
			fd = open(abs, flags, 0640);
	}
	if (abs_out)
		*abs_out = abs;
	else
		free(abs);
	return fd;
}

int norc_daemon_signalfd(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	struct sigaction ign;
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

void norc_daemon_notify(const char *state)
{
#ifdef NORC_HAVE_SYSTEMD
	sd_notify(0, state);
#else
	(void)state;
#endif
}
