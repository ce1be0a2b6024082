/*
 * schema.c - see schema.h. The data model of docs/design.md section 4.
 *
 * Conventions: ids are auto-increment 64-bit; timestamps are BIGINT microseconds since the
 * epoch, UTC; booleans are INTEGER 0/1; statuses and requests are the original's numbers.
 * Every hot query has an index here (queue pop, due schedules, instances by status/executor).
 */
#include "schema.h"
#include "clock.h"
#include "mem.h"
#include "model.h"

#include <stdlib.h>
#include <string.h>

/* Version 1: the whole data model. It stays open to edits until the first release (docs/
 * decisions.md 14); from then on every change is a new migration. */
static const char *const v1[] = {
	"CREATE TABLE IF NOT EXISTS norc_schema ("
	" id INTEGER NOT NULL PRIMARY KEY,"
	" version INTEGER NOT NULL,"
	" updated BIGINT NOT NULL){END}",

	"CREATE TABLE IF NOT EXISTS revisions ("
	" id {PK},"
	" info VARCHAR(64) NOT NULL,"
	" UNIQUE (info)){END}",

	"CREATE TABLE IF NOT EXISTS tasks ("
	" id {PK},"
	" name VARCHAR(160) NOT NULL," /* 128 + room for "~ID" after removal */
	" type VARCHAR(64) NOT NULL,"
	" description VARCHAR(512) NOT NULL DEFAULT '',"
	" params TEXT NOT NULL,"
	" timeout INTEGER NOT NULL DEFAULT 0,"
	" nice INTEGER NOT NULL DEFAULT 0,"
	" retries INTEGER NOT NULL DEFAULT 0,"           /* extra attempts after a failure */
	" retry_delay INTEGER NOT NULL DEFAULT 0,"       /* s before the first retry, doubling */
	" retry_max_delay INTEGER NOT NULL DEFAULT 3600," /* cap of that doubling, s */
	" overlap INTEGER NOT NULL DEFAULT 0,"  /* 0 allow, 1 skip, 2 queue (sched.h) */
	" run_as VARCHAR(97) NULL,"   /* runas.h: USER[:GROUP] it runs as */
	" limits VARCHAR(255) NULL,"  /* runas.h: "cpu=60,mem=536870912,..." */
	" added BIGINT NOT NULL,"
	" deleted INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE (name)){END}",

	"CREATE TABLE IF NOT EXISTS job_nodes ("
	" id {PK},"
	" job_id BIGINT NOT NULL REFERENCES tasks(id),"
	" name VARCHAR(128) NOT NULL,"
	" task_id BIGINT NOT NULL REFERENCES tasks(id),"
	" UNIQUE (job_id, name)){END}",

	"CREATE TABLE IF NOT EXISTS job_deps ("
	" id {PK},"
	" job_id BIGINT NOT NULL REFERENCES tasks(id),"
	" parent_id BIGINT NOT NULL REFERENCES job_nodes(id),"
	" child_id BIGINT NOT NULL REFERENCES job_nodes(id),"
	" UNIQUE (parent_id, child_id)){END}",
	"CREATE INDEX IF NOT EXISTS job_deps_job ON job_deps (job_id)",
	"CREATE INDEX IF NOT EXISTS job_deps_child ON job_deps (child_id)",
	"CREATE INDEX IF NOT EXISTS job_nodes_task ON job_nodes (task_id)",

	"CREATE TABLE IF NOT EXISTS queues ("
	" id {PK},"
	" name VARCHAR(96) NOT NULL," /* 64 + room for "~ID" after removal */
	" type VARCHAR(64) NOT NULL,"
	" params TEXT NOT NULL,"
	" is_group INTEGER NOT NULL DEFAULT 0,"
	" deleted INTEGER NOT NULL DEFAULT 0,"
	" added BIGINT NOT NULL,"
	" UNIQUE (name)){END}",

	"CREATE TABLE IF NOT EXISTS queue_group_members ("
	" id {PK},"
	" group_id BIGINT NOT NULL REFERENCES queues(id),"
	" queue_id BIGINT NOT NULL REFERENCES queues(id),"
	" priority INTEGER NOT NULL DEFAULT 0," /* strict mode: lower first (the original's) */
	" weight INTEGER NOT NULL DEFAULT 1,"   /* weighted mode: share of the pops */
	" UNIQUE (group_id, queue_id)){END}",
	"CREATE INDEX IF NOT EXISTS queue_group_members_queue ON queue_group_members (queue_id)",

	"CREATE TABLE IF NOT EXISTS daemons ("
	" id {PK},"
	" kind VARCHAR(16) NOT NULL,"
	" host VARCHAR(255) NOT NULL,"
	" pid INTEGER NOT NULL,"
	" status INTEGER NOT NULL DEFAULT 1,"
	" request INTEGER NULL,"
	" heartbeat BIGINT NULL,"
	" started BIGINT NULL,"
	" ended BIGINT NULL,"
	" queue_id BIGINT NULL REFERENCES queues(id),"
	" concurrency INTEGER NOT NULL DEFAULT 0,"
	" version VARCHAR(32) NOT NULL DEFAULT ''){END}",
	"CREATE INDEX IF NOT EXISTS daemons_kind_status ON daemons (kind, status)",
	"CREATE INDEX IF NOT EXISTS daemons_host ON daemons (host)",

	"CREATE TABLE IF NOT EXISTS schedules ("
	" id {PK},"
	" task_id BIGINT NOT NULL REFERENCES tasks(id),"
	" queue_id BIGINT NOT NULL REFERENCES queues(id),"
	" kind VARCHAR(8) NOT NULL,"           /* period | cron */
	" period BIGINT NOT NULL DEFAULT 0,"   /* seconds, kind=period */
	" cron VARCHAR(255) NULL,"             /* expression, kind=cron */
	" tz VARCHAR(64) NULL,"
	" start_at BIGINT NOT NULL,"
	" next_fire BIGINT NULL,"              /* NULL once finished */
	" repetitions INTEGER NOT NULL DEFAULT 0," /* 0 = forever */
	" remaining INTEGER NOT NULL DEFAULT 0,"
	" catch_up INTEGER NOT NULL DEFAULT 1,"     /* 0 skip, 1 latest, 2 all (sched.h) */
	" catch_up_max INTEGER NOT NULL DEFAULT 0," /* all: at most this many (0: 1000) */
	" last_fire BIGINT NULL,"                  /* nominal time of the last decision */
	" last_note VARCHAR(255) NULL,"            /* what happened then, and why */
	" lease_owner BIGINT NULL REFERENCES daemons(id),"
	" lease_until BIGINT NULL,"  /* the claim batch's token (the claim lasts while the */
				     /* owner's heartbeat does: see daemon.c) */
	" changed INTEGER NOT NULL DEFAULT 0,"
	" paused INTEGER NOT NULL DEFAULT 0,"
	" deleted INTEGER NOT NULL DEFAULT 0,"
	" added BIGINT NOT NULL){END}",
	/* free ones to claim; a scheduler's own batch (lease_until is its claim token); edits */
	"CREATE INDEX IF NOT EXISTS schedules_free ON schedules (lease_owner, deleted, paused, "
	"next_fire)",
	"CREATE INDEX IF NOT EXISTS schedules_lease ON schedules (lease_owner, lease_until)",
	"CREATE INDEX IF NOT EXISTS schedules_changed ON schedules (lease_owner, changed)",
	"CREATE INDEX IF NOT EXISTS schedules_task ON schedules (task_id)",
	"CREATE INDEX IF NOT EXISTS schedules_queue ON schedules (queue_id)",

	"CREATE TABLE IF NOT EXISTS instances ("
	" id {PK},"
	" task_id BIGINT NOT NULL REFERENCES tasks(id),"
	" schedule_id BIGINT NULL REFERENCES schedules(id),"
	" fire_time BIGINT NULL,"
	" job_instance_id BIGINT NULL REFERENCES instances(id),"
	" job_node_id BIGINT NULL REFERENCES job_nodes(id),"
	" queue_id BIGINT NULL REFERENCES queues(id),"
	" status INTEGER NOT NULL DEFAULT 1,"
	" executor_id BIGINT NULL REFERENCES daemons(id),"
	" enqueued BIGINT NOT NULL,"
	" started BIGINT NULL,"
	" ended BIGINT NULL,"
	" exit_code INTEGER NULL,"
	" term_signal INTEGER NULL,"
	" attempt INTEGER NOT NULL DEFAULT 1,"
	" previous_id BIGINT NULL REFERENCES instances(id)," /* the attempt this one retries */
	" retry_at BIGINT NULL,"   /* a retry not yet pushed: the scheduler pushes it then */
	" reason VARCHAR(255) NULL," /* why it ended so, when the status alone does not say */
	" log_path VARCHAR(1024) NULL,"
	" revision_id BIGINT NULL REFERENCES revisions(id),"
	" deadline BIGINT NULL,"    /* a running job instance: its timeout (job.c); NULL else */
	" kill_status INTEGER NULL," /* a kill was asked: the status to end with (job.c) */
	" job_left INTEGER NULL,"    /* a job instance: its node instances not final yet */
	" UNIQUE (schedule_id, fire_time, attempt)){END}",
	"CREATE INDEX IF NOT EXISTS instances_executor ON instances (executor_id, ended, status)",
	"CREATE INDEX IF NOT EXISTS instances_task ON instances (task_id, ended)",
	"CREATE INDEX IF NOT EXISTS instances_ended ON instances (ended)",
	/* the failed list (status >= FAILURE, not yet handled) and status filters */
	"CREATE INDEX IF NOT EXISTS instances_status ON instances (status, ended)",
	"CREATE INDEX IF NOT EXISTS instances_job ON instances (job_instance_id, job_node_id)",
	"CREATE INDEX IF NOT EXISTS instances_deadline ON instances (deadline)",
	"CREATE INDEX IF NOT EXISTS instances_retry ON instances (retry_at)",

	"CREATE TABLE IF NOT EXISTS dbqueue_items ("
	" id {PK},"
	" queue_id BIGINT NOT NULL REFERENCES queues(id),"
	" instance_id BIGINT NOT NULL REFERENCES instances(id),"
	" enqueued BIGINT NOT NULL){END}",
	"CREATE INDEX IF NOT EXISTS dbqueue_items_pop ON dbqueue_items (queue_id, id)",

	/* Log files of one host on their way to the backup store (upload.h). */
	"CREATE TABLE IF NOT EXISTS log_uploads ("
	" id {PK},"
	" host VARCHAR(255) NOT NULL,"     /* the host whose log_dir holds the file */
	" path VARCHAR(1024) NOT NULL,"    /* relative to log_dir; key norc_logs/<path> */
	" instance_id BIGINT NULL REFERENCES instances(id)," /* whose log, or ... */
	" daemon_id BIGINT NULL REFERENCES daemons(id),"     /* ... which daemon's log */
	" state INTEGER NOT NULL DEFAULT 0," /* 0 open 1 due 2 uploaded 3 removed 4 gone */
	" state_at BIGINT NULL,"  /* due: next attempt (a taken batch: its lease); uploaded and */
				  /* removed: since when */
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" last_error VARCHAR(255) NULL,"
	" added BIGINT NOT NULL){END}",
	"CREATE INDEX IF NOT EXISTS log_uploads_host ON log_uploads (host, state, state_at)",
	"CREATE INDEX IF NOT EXISTS log_uploads_instance ON log_uploads (instance_id)",
	"CREATE INDEX IF NOT EXISTS log_uploads_daemon ON log_uploads (daemon_id)",

	/* Alerts (alert.h): one rule per task, and the alerts raised, delivered by schedulers. */
	"CREATE TABLE IF NOT EXISTS task_alerts ("
	" id {PK},"
	" task_id BIGINT NOT NULL REFERENCES tasks(id),"
	" events INTEGER NOT NULL DEFAULT 0,"     /* 1 failure, 2 timeout, 4 retries exhausted */
	" deadline INTEGER NOT NULL DEFAULT 0,"   /* s after a scheduled fire to succeed by */
	" no_success INTEGER NOT NULL DEFAULT 0," /* dead man's switch, s; 0: none */
	" email VARCHAR(512) NULL,"              /* addresses, comma-separated */
	" webhook VARCHAR(1024) NULL,"
	" armed BIGINT NOT NULL,"       /* no_success set then: counts from here without success */
	" dms_due BIGINT NULL,"         /* the switch's next look; NULL: no switch */
	" dms_alerted BIGINT NULL,"     /* the last success (or armed) already alerted on */
	" changed BIGINT NOT NULL,"
	" UNIQUE (task_id)){END}",
	"CREATE INDEX IF NOT EXISTS task_alerts_dms ON task_alerts (dms_due)",
	"CREATE TABLE IF NOT EXISTS alerts ("
	" id {PK},"
	" task_id BIGINT NOT NULL REFERENCES tasks(id),"
	" instance_id BIGINT NULL REFERENCES instances(id),"
	" kind INTEGER NOT NULL,"             /* alert.h: 1 failure ... 6 test */
	" state INTEGER NOT NULL DEFAULT 0,"  /* 0 waiting 1 sending 2 sent 3 failed 4 cancelled */
	" due BIGINT NOT NULL,"               /* waiting: act then; sending: the lease's end */
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" delivered INTEGER NOT NULL DEFAULT 0," /* channels done: 1 e-mail, 2 webhook */
	" detail VARCHAR(255) NULL,"
	" last_error VARCHAR(255) NULL,"
	" created BIGINT NOT NULL,"
	" done BIGINT NULL){END}",
	"CREATE INDEX IF NOT EXISTS alerts_due ON alerts (state, due)",
	"CREATE INDEX IF NOT EXISTS alerts_task ON alerts (task_id, id)",
	NULL,
};

static const char *const *const migrations[] = {v1};
#define LATEST ((int)(sizeof(migrations) / sizeof(migrations[0])))

int norc_schema_latest(void) { return LATEST; }

/* Replace {PK} and {END} with the backend's text. Caller frees. */
static char *expand(struct norc_db *db, const char *sql)
{
	const char *pk = norc_db_ddl(db, NORC_DDL_PK);
	const char *end = norc_db_ddl(db, NORC_DDL_TABLE_END);
	size_t cap = strlen(sql) + 1;
	for (const char *p = sql; (p = strchr(p, '{')); p++)
		cap += strlen(pk) + strlen(end);
	char *out = norc_xmalloc(cap);
	char *o = out;
	for (const char *p = sql; *p;) {
		const char *rep = NULL;
		size_t skip = 0;
		if (strncmp(p, "{PK}", 4) == 0)
			rep = pk, skip = 4;
		else if (strncmp(p, "{END}", 5) == 0)
			rep = end, skip = 5;
		if (rep) {
			size_t l = strlen(rep);
			memcpy(o, rep, l);
			o += l;
			p += skip;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

int norc_schema_version(struct norc_db *db, int *version)
{
	*version = 0;
	/* Only a missing table means "never initialized"; any other error is reported as it is
	 * (a denied SELECT must not look like an empty database). */
	struct norc_stmt *st;
	int rc = norc_db_prepare(db, norc_db_ddl(db, NORC_DDL_TABLE_EXISTS), &st);
	if (rc != NORC_OK)
		return rc;
	bool row = false;
	norc_stmt_bind_text(st, 1, "norc_schema");
	rc = norc_stmt_step(st, &row);
	bool exists = rc == NORC_OK && row && norc_stmt_column_int64(st, 0) > 0;
	norc_stmt_finalize(st);
	if (rc != NORC_OK || !exists)
		return rc;
	int64_t v = 0;
	rc = norc_db_query_int64(db, "SELECT version FROM norc_schema WHERE id = 1", &v, 0);
	if (rc == NORC_ENOTFOUND)
		return NORC_OK; /* table created, version row not yet written: version 0 */
	*version = (int)v;
	return rc;
}

static int newer_error(struct norc_db *db, int v, char *err, size_t errlen)
{
	return norc_err_set(err, errlen, NORC_EVERSION,
			    "database (%s) has schema version %d, newer than this norc knows "
			    "(%d); install the newer norc on this host", norc_db_backend_name(db), v,
			    LATEST);
}

/* Move the version row from `from` to `to`; NORC_EBUSY when someone else moved it. */
static int set_version(struct norc_db *db, int from, int to, int64_t now_us)
{
	int64_t changed = 0;
	struct norc_arg up[] = {NORC_AI(to), NORC_AI(now_us), NORC_AI(from)};
	int rc = norc_model_exec(db,
				 "UPDATE norc_schema SET version = ?, updated = ? WHERE id = 1 AND "
				 "version = ?", up, 3, &changed);
	if (rc != NORC_OK || changed == 1)
		return rc;
	if (from != 0)
		return NORC_EBUSY;
	struct norc_arg in[] = {NORC_AI(to), NORC_AI(now_us)};
	rc = norc_model_exec(db, "INSERT INTO norc_schema (id, version, updated) VALUES (1, ?, ?)",
			     in, 2, NULL);
	if (rc == NORC_EEXIST)
		return NORC_EBUSY;
	return rc;
}

int norc_schema_migrate(struct norc_db *db, int *from, char *err, size_t errlen)
{
	int v;
	int rc = norc_schema_version(db, &v);
	if (rc != NORC_OK)
		return norc_err_set(err, errlen, rc, "database: %s", norc_db_errmsg(db));
	*from = v;
	if (v > LATEST)
		return newer_error(db, v, err, errlen);
	for (int m = v; m < LATEST; m++) {
		/* SQLite runs the whole migration in one transaction; MariaDB commits each DDL
		 * statement implicitly, which IF NOT EXISTS makes safe to repeat. */
		bool tx = norc_db_backend(db) == NORC_DB_SQLITE;
		if (tx && (rc = norc_db_begin_write(db)) != NORC_OK)
			return norc_err_set(err, errlen, rc, "database: %s", norc_db_errmsg(db));
		for (const char *const *s = migrations[m]; *s && rc == NORC_OK; s++) {
			char *sql = expand(db, *s);
			rc = norc_db_exec(db, sql);
			free(sql);
		}
		if (rc == NORC_OK)
			rc = set_version(db, m, m + 1, norc_clock_now_us());
		if (tx)
			rc = rc == NORC_OK ? norc_db_commit(db) : (norc_db_rollback(db), rc);
		if (rc == NORC_EBUSY)
			return norc_err_set(err, errlen, rc,
					    "database: the schema version changed during the migration "
					    "to version %d (another `norc init` ran at the same time); "
					    "run `norc init` again", m + 1);
		if (rc != NORC_OK)
			return norc_err_set(err, errlen, rc,
					    "database: migration to schema version %d failed: %s; "
					    "nothing after version %d was recorded, run `norc init` "
					    "again once the cause is fixed", m + 1, norc_db_errmsg(db), m);
	}
	return NORC_OK;
}

int norc_schema_check(struct norc_db *db, char *err, size_t errlen)
{
	int v;
	int rc = norc_schema_version(db, &v);
	if (rc != NORC_OK)
		return norc_err_set(err, errlen, rc, "database: %s", norc_db_errmsg(db));
	if (v == 0)
		return norc_err_set(err, errlen, NORC_EVERSION,
				    "database (%s) is not initialized; run `norc init` first",
				    norc_db_backend_name(db));
	if (v > LATEST)
		return newer_error(db, v, err, errlen);
	if (v < LATEST)
		return norc_err_set(err, errlen, NORC_EVERSION,
				    "database (%s) has schema version %d, older than this norc "
				    "(%d); run `norc init` to migrate it", norc_db_backend_name(db),
				    v, LATEST);
	return NORC_OK;
}
