/*
 * config.h - this host's settings, read from one libconfig file.
 *
 * Which file: -C/--config FILE, else $NORC_CONFIG, else the installed default
 * (NORC_DEFAULT_CONFIG). The whole file is parsed into a fresh object and validated (unknown
 * keys and wrong types are errors with file and line; relative paths resolve against the
 * config file's folder) before anything uses it, so a bad reload never replaces a good config.
 */
#ifndef NORC_CONFIG_H
#define NORC_CONFIG_H

#include "db.h"
#include "params.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct norc_config {
	char *file; /* absolute path of the file read */
	char *dir;  /* its folder */
	struct {
		enum norc_db_backend backend;
		char *path; /* sqlite file */
		int busy_timeout_ms;
		char *host;
		int port;
		char *socket;
		char *user;
		char *password;      /* inline (discouraged) */
		char *password_env;  /* name of an environment variable */
		char *password_file; /* file whose first line is the password */
		char *name;          /* database name */
		int connect_timeout_s;
		int io_timeout_s; /* a read or write on the connection (a partition ends it) */
	} db;
	char *log_dir;
	char *tmp_dir;
	char *timezone; /* default zone of new cron schedules; NULL = UTC */
	char **plugin_dirs; /* user plugin folders, searched after the built-in and drop-in ones */
	size_t n_plugin_dirs;
	int heartbeat_s;
	int heartbeat_timeout_s;
	int kill_grace_s; /* SIGTERM -> SIGKILL delay for timed-out or killed tasks */
	int stop_timeout_s; /* STOP: how long running instances may finish (0: no limit) */
	int finally_timeout_s; /* a task plugin's finally hook: TIMEDOUT after this long */
	int log_max_mb; /* an instance whose log grows past this is stopped (FAILURE); 0: none */
	struct {
		char *plugin;        /* backup plugin name; NULL: logs are not backed up */
		int timeout_s;       /* an upload batch (child process) is killed after this */
		int keep_local_days; /* delete uploaded local copies this old (0: keep them) */
		struct norc_params *settings; /* the plugin's own settings (backup.settings) */
	} backup;
	struct {
		char *user;      /* a root executor runs tasks without run_as as this user */
		bool allow_root; /* ... and refuses to run them as root unless this is set */
	} tasks;
	struct norc_config_alerts {
		char *smtp_url;      /* smtp://relay:25 or smtps://relay:465; NULL: no e-mail */
		char *smtp_user;     /* with a password: STARTTLS required on smtp:// */
		char *smtp_password; /* inline (discouraged) */
		char *smtp_password_file;
		char *from;          /* sender address; NULL: norc@HOST */
		char *link;          /* norc_web's address, for log links in messages */
		int timeout_s;       /* one delivery (an e-mail or a webhook call) may take this */
		int attempts;        /* deliveries tried before an alert is FAILED */
		int retry_delay_s;   /* after a failed delivery, doubling up to 1 h */
		int keep_days;       /* finished alerts are deleted after this */
	} alerts;
	struct {
		bool enabled;      /* the config has a `web` group: norc up starts norc_web */
		char *listen;      /* "ADDR:PORT" ("[v6]:PORT"), default 127.0.0.1:8470 */
		char *root;        /* the page's static files */
		char *tls_cert;    /* PEM files; both set: HTTPS only */
		char *tls_key;
		char *anonymous;   /* "none" or "viewer" */
		int session_idle_s;
		int session_max_s;
		char *users_file;  /* "name:role:hash" lines, written by `norc web user add` */
		/* inline records: users {name, role, password_hash}, tokens {name, role, sha256};
		 * each a norc_params, checked by webauth.h */
		struct norc_params **users;
		size_t n_users;
		struct norc_params **tokens;
		size_t n_tokens;
	} web;
};

/* Which file would be read for an explicit -C value (may be NULL). Borrowed or static. */
const char *norc_config_pick(const char *explicit_path);
/* Read and validate. On failure *out is NULL and err is one line naming file, line and fix.
 * Caller frees with norc_config_free. */
int norc_config_load(const char *path, struct norc_config **out, char *err, size_t errlen);
void norc_config_free(struct norc_config *cfg); /* NULL ok */
/* SIGHUP: read cfg->file again. On success the settings a running daemon can change take
 * effect in cfg (daemon timings, log_dir); restart_note gets the changed settings that need a
 * restart (" database plugin_dirs tmp_dir", empty when none), which keep their old values.
 * On failure cfg is untouched and err says why. */
int norc_config_reload(struct norc_config *cfg, char *restart_note, size_t notelen, char *err,
		       size_t errlen);
/* Fill a norc_db_config (strings borrowed from cfg, except *password_buf, which the caller
 * frees with free()). Resolves the password from the file or environment variable. */
int norc_config_db(const struct norc_config *cfg, struct norc_db_config *out, char **password_buf,
		   char *err, size_t errlen);
/* A number naming the database this config uses (a hash of its location), so that process
 * sweeps on a host touch only what belongs to the same Norc installation. */
uint64_t norc_config_db_scope(const struct norc_config *cfg);
/* true when a setting named key holds a secret (secret, password, token, credential in its
 * name, but not a *_file or *_env setting naming where the secret is). */
bool norc_config_secret_key(const char *key);
/* Print the effective settings, secrets masked ("********"). */
void norc_config_print(const struct norc_config *cfg, FILE *out, bool json);

#endif
