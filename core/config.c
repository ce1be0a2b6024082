/*
 * config.c - see config.h. Options are declared in one table (path, type, bounds, field
 * offset) and the parsed tree is walked once: every setting must match a table entry, so a
 * typo is reported with its line instead of being silently ignored.
 */
#include "config.h"
#include "runas.h"
#include "mem.h"

#include <errno.h>
#include <jansson.h>
#include <libconfig.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef NORC_DEFAULT_CONFIG
#define NORC_DEFAULT_CONFIG "/usr/local/etc/norc/norc.conf"
#endif
#ifndef NORC_WEB_ROOT
#define NORC_WEB_ROOT "/usr/local/share/norc/web"
#endif

enum opt_type {
	OPT_STR, OPT_PATH, OPT_INT, OPT_BOOL, OPT_PATH_LIST, OPT_GROUP, OPT_PARAMS, OPT_RECORDS
};

struct opt {
	const char *path;
	enum opt_type type;
	size_t off;
	long long min, max;
	bool secret;
	const char *help;
};

#define F(field) offsetof(struct norc_config, field)
/* store_records finds a list's count right after the list */
_Static_assert(offsetof(struct norc_config, web.n_users) ==
		       offsetof(struct norc_config, web.users) + sizeof(struct norc_params **),
	       "web.n_users follows web.users");
_Static_assert(offsetof(struct norc_config, web.n_tokens) ==
		       offsetof(struct norc_config, web.tokens) + sizeof(struct norc_params **),
	       "web.n_tokens follows web.tokens");
static const struct opt opts[] = {
	{"database", OPT_GROUP, 0, 0, 0, false, "database settings"},
	{"database.backend", OPT_STR, F(db), 0, 0, false, "sqlite or mariadb"},
	{"database.path", OPT_PATH, F(db.path), 0, 0, false, "sqlite database file"},
	{"database.busy_timeout_ms", OPT_INT, F(db.busy_timeout_ms), 1, 600000, false, "sqlite lock wait"},
	{"database.host", OPT_STR, F(db.host), 0, 0, false,
	 "mariadb host, or several HOST[:PORT] separated by commas (a Galera cluster: the next one is used when one fails)"},
	{"database.port", OPT_INT, F(db.port), 1, 65535, false, "mariadb TCP port"},
	{"database.socket", OPT_PATH, F(db.socket), 0, 0, false, "mariadb unix socket"},
	{"database.user", OPT_STR, F(db.user), 0, 0, false, "mariadb user"},
	{"database.password", OPT_STR, F(db.password), 0, 0, true, "mariadb password"},
	{"database.password_env", OPT_STR, F(db.password_env), 0, 0, false, "variable holding the password"},
	{"database.password_file", OPT_PATH, F(db.password_file), 0, 0, false, "file holding the password"},
	{"database.name", OPT_STR, F(db.name), 0, 0, false, "mariadb database name"},
	{"database.connect_timeout", OPT_INT, F(db.connect_timeout_s), 1, 3600, false, "seconds"},
	{"database.io_timeout", OPT_INT, F(db.io_timeout_s), 1, 3600, false,
	 "seconds a mariadb read or write may wait before the connection counts as lost"},
	{"log_dir", OPT_PATH, F(log_dir), 0, 0, false, "root of all logs"},
	{"timezone", OPT_STR, F(timezone), 0, 0, false,
	 "IANA zone of cron schedules added without --tz (default UTC)"},
	{"tmp_dir", OPT_PATH, F(tmp_dir), 0, 0, false, "scratch folder for tasks"},
	{"plugin_dirs", OPT_PATH_LIST, F(plugin_dirs), 0, 0, false, "extra plugin folders"},
	{"daemon", OPT_GROUP, 0, 0, 0, false, "daemon timing"},
	{"daemon.heartbeat", OPT_INT, F(heartbeat_s), 1, 3600, false, "seconds between heartbeats"},
	{"daemon.heartbeat_timeout", OPT_INT, F(heartbeat_timeout_s), 2, 86400, false,
	 "seconds without heartbeat before a daemon counts as dead"},
	{"daemon.stop_timeout", OPT_INT, F(stop_timeout_s), 0, 7 * 86400, false,
	 "seconds a STOPped executor lets its instances finish before it kills them (0: no "
	 "limit)"},
	{"daemon.kill_grace", OPT_INT, F(kill_grace_s), 0, 3600, false,
	 "seconds between SIGTERM and SIGKILL for a task's process group"},
	{"daemon.finally_timeout", OPT_INT, F(finally_timeout_s), 1, 86400, false,
	 "seconds a task plugin's finally hook may run before it is killed (TIMEDOUT)"},
	{"daemon.log_max_mb", OPT_INT, F(log_max_mb), 0, 1048576, false,
	 "MiB an instance's log may reach; a run writing more is stopped and ends FAILURE (0: "
	 "no cap)"},
	{"backup", OPT_GROUP, 0, 0, 0, false, "log backup"},
	{"backup.plugin", OPT_STR, F(backup.plugin), 0, 0, false, "backup plugin: S3, LocalBackup"},
	{"backup.timeout", OPT_INT, F(backup.timeout_s), 5, 86400, false,
	 "seconds an upload batch may take before it is killed and retried"},
	{"backup.keep_local_days", OPT_INT, F(backup.keep_local_days), 0, 36500, false,
	 "delete local log copies this many days after their upload (0: keep them)"},
	{"backup.settings", OPT_PARAMS, F(backup.settings), 0, 0, false,
	 "the backup plugin's own settings"},
	{"tasks", OPT_GROUP, 0, 0, 0, false, "who tasks run as on this host"},
	{"tasks.user", OPT_STR, F(tasks.user), 0, 0, false,
	 "USER[:GROUP] that a root executor runs tasks without --run-as as"},
	{"tasks.allow_root", OPT_BOOL, F(tasks.allow_root), 0, 0, false,
	 "true: a root executor may run tasks as root (refused otherwise)"},
	{"alerts", OPT_GROUP, 0, 0, 0, false, "alert delivery (norc alert set per task)"},
	{"alerts.smtp_url", OPT_STR, F(alerts.smtp_url), 0, 0, false,
	 "SMTP relay: smtp://HOST:PORT (STARTTLS when offered) or smtps://HOST:PORT"},
	{"alerts.smtp_user", OPT_STR, F(alerts.smtp_user), 0, 0, false, "SMTP login"},
	{"alerts.smtp_password", OPT_STR, F(alerts.smtp_password), 0, 0, true, "SMTP password"},
	{"alerts.smtp_password_file", OPT_PATH, F(alerts.smtp_password_file), 0, 0, false,
	 "file holding the SMTP password"},
	{"alerts.from", OPT_STR, F(alerts.from), 0, 0, false, "sender address (default norc@HOST)"},
	{"alerts.link", OPT_STR, F(alerts.link), 0, 0, false,
	 "norc_web's address as users reach it, for log links (e.g. https://norc.example.com)"},
	{"alerts.timeout", OPT_INT, F(alerts.timeout_s), 1, 3600, false,
	 "seconds one delivery (an e-mail or a webhook call) may take before it counts as failed"},
	{"alerts.attempts", OPT_INT, F(alerts.attempts), 1, 100, false,
	 "deliveries tried before an alert counts as failed"},
	{"alerts.retry_delay", OPT_INT, F(alerts.retry_delay_s), 1, 3600, false,
	 "seconds before a failed delivery is tried again, doubling up to 1 h"},
	{"alerts.keep_days", OPT_INT, F(alerts.keep_days), 1, 36500, false,
	 "days finished alerts are kept (norc alert list) before they are deleted"},
	{"web", OPT_GROUP, 0, 0, 0, false, "norc_web: the web page and JSON API"},
	{"web.listen", OPT_STR, F(web.listen), 0, 0, false, "ADDR:PORT to listen on"},
	{"web.root", OPT_PATH, F(web.root), 0, 0, false, "folder of the page's static files"},
	{"web.tls_cert", OPT_PATH, F(web.tls_cert), 0, 0, false, "TLS certificate (PEM)"},
	{"web.tls_key", OPT_PATH, F(web.tls_key), 0, 0, false, "TLS private key (PEM)"},
	{"web.anonymous", OPT_STR, F(web.anonymous), 0, 0, false, "\"none\" or \"viewer\""},
	{"web.session_idle", OPT_INT, F(web.session_idle_s), 60, 30 * 86400, false,
	 "seconds a session lives without a request"},
	{"web.session_max", OPT_INT, F(web.session_max_s), 60, 90 * 86400, false,
	 "seconds a session lives at most"},
	{"web.users_file", OPT_PATH, F(web.users_file), 0, 0, false,
	 "file of users (norc web user add)"},
	{"web.users", OPT_RECORDS, F(web.users), 0, 0, false, "name role password_hash"},
	{"web.tokens", OPT_RECORDS, F(web.tokens), 0, 0, false, "name role sha256"},
};
#undef F
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

const char *norc_config_pick(const char *explicit_path)
{
	if (explicit_path && *explicit_path)
		return explicit_path;
	const char *env = getenv("NORC_CONFIG");
	if (env && *env)
		return env;
	return NORC_DEFAULT_CONFIG;
}

void norc_config_free(struct norc_config *c)
{
	if (!c)
		return;
	free(c->file);
	free(c->dir);
	free(c->db.path);
	free(c->db.host);
	free(c->db.socket);
	free(c->db.user);
	free(c->db.password);
	free(c->db.password_env);
	free(c->db.password_file);
	free(c->db.name);
	free(c->log_dir);
	free(c->timezone);
	free(c->tmp_dir);
	for (size_t i = 0; i < c->n_plugin_dirs; i++)
		free(c->plugin_dirs[i]);
	free(c->plugin_dirs);
	free(c->backup.plugin);
	free(c->tasks.user);
	free(c->alerts.smtp_url);
	free(c->alerts.smtp_user);
	free(c->alerts.smtp_password);
	free(c->alerts.smtp_password_file);
	free(c->alerts.from);
	free(c->alerts.link);
	norc_params_free(c->backup.settings);
	free(c->web.listen);
	free(c->web.root);
	free(c->web.tls_cert);
	free(c->web.tls_key);
	free(c->web.anonymous);
	free(c->web.users_file);
	for (size_t i = 0; i < c->web.n_users; i++)
		norc_params_free(c->web.users[i]);
	free(c->web.users);
	for (size_t i = 0; i < c->web.n_tokens; i++)
		norc_params_free(c->web.tokens[i]);
	free(c->web.tokens);
	free(c);
}

/* Lexically clean an absolute path in place: drop "." and empty segments, fold "x/..". */
static void clean_path(char *path)
{
	char *out = path;
	for (const char *in = path; *in;) {
		while (*in == '/')
			in++;
		const char *end = strchrnul(in, '/');
		size_t n = (size_t)(end - in);
		if (n == 0 || (n == 1 && in[0] == '.')) {
			/* skip */
		} else if (n == 2 && in[0] == '.' && in[1] == '.') {
			while (out > path && *--out != '/')
				;
		} else {
			*out++ = '/';
			memmove(out, in, n);
			out += n;
		}
		in = end;
	}
	if (out == path)
		*out++ = '/';
	*out = '\0';
}

static char *resolve(const struct norc_config *c, const char *p)
{
	if (!p || !*p)
		return NULL;
	char *r = p[0] == '/' ? norc_xstrdup(p) : norc_xasprintf("%s/%s", c->dir, p);
	clean_path(r);
	return r;
}

static const struct opt *find_opt(const char *path)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (strcmp(opts[i].path, path) == 0)
			return &opts[i];
	return NULL;
}

static const char *type_name(enum opt_type t)
{
	switch (t) {
	case OPT_STR: case OPT_PATH: return "a string in double quotes";
	case OPT_INT: return "an integer";
	case OPT_BOOL: return "true or false";
	case OPT_PATH_LIST: return "a list of strings, like [\"/a\", \"/b\"]";
	case OPT_GROUP: return "a group, like name: { ... };";
	case OPT_PARAMS: return "a group of plain values, like settings: { bucket = \"b\"; };";
	case OPT_RECORDS: return "a list of groups, like ( { name = \"a\"; } )";
	}
	return "?";
}

static int bad(char *err, size_t errlen, const struct norc_config *c, config_setting_t *s,
	       const char *path, const char *what)
{
	return norc_err_set(err, errlen, NORC_ECONFIG, "config %s:%d: %s: %s",
			    c->file, config_setting_source_line(s), path, what);
}

/* A list of groups whose keys are the words of o->help, every value a string; stored as an
 * array of norc_params after the norc_params * array at o->off (count next to it). */
static int store_records(struct norc_config *c, const struct opt *o, config_setting_t *s,
			 const char *path, char *err, size_t errlen)
{
	char msg[256];
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_LIST)
		return bad(err, errlen, c, s, path, "must be a list of groups: ( { ... }, { ... } )");
	int n = config_setting_length(s);
	struct norc_params ***list = (struct norc_params ***)((char *)c + o->off);
	size_t *count = (size_t *)((char *)c + o->off + sizeof(struct norc_params **));
	for (size_t i = 0; i < *count; i++)
		norc_params_free((*list)[i]);
	free(*list);
	*list = norc_xcalloc((size_t)n + 1, sizeof(**list));
	*count = 0;
	for (int i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(g) != CONFIG_TYPE_GROUP)
			return bad(err, errlen, c, g, path, "every entry must be a group { ... }");
		struct norc_params *p = norc_params_new();
		(*list)[(*count)++] = p;
		int m = config_setting_length(g);
		for (int j = 0; j < m; j++) {
			config_setting_t *e = config_setting_get_elem(g, (unsigned)j);
			const char *k = config_setting_name(e);
			size_t kl = strlen(k);
			const char *w = strstr(o->help, k);
			if (!w || (w != o->help && w[-1] != ' ') || (w[kl] && w[kl] != ' ')) {
				snprintf(msg, sizeof(msg), "unknown key '%s' in an entry; the keys are: "
					 "%s", k, o->help);
				return bad(err, errlen, c, e, path, msg);
			}
			if (config_setting_type(e) != CONFIG_TYPE_STRING) {
				snprintf(msg, sizeof(msg), "%s must be a string", k);
				return bad(err, errlen, c, e, path, msg);
			}
			norc_params_set(p, k, config_setting_get_string(e));
		}
	}
	return NORC_OK;
}

static int store(struct norc_config *c, const struct opt *o, config_setting_t *s,
		 const char *path, char *err, size_t errlen)
{
	char *base = (char *)c;
	char msg[256];
	switch (o->type) {
	case OPT_GROUP:
		if (config_setting_type(s) != CONFIG_TYPE_GROUP)
			break;
		if (strcmp(o->path, "web") == 0)
			c->web.enabled = true;
		return NORC_OK;
	case OPT_RECORDS:
		return store_records(c, o, s, path, err, errlen);
	case OPT_STR:
	case OPT_PATH: {
		if (config_setting_type(s) != CONFIG_TYPE_STRING)
			break;
		const char *v = config_setting_get_string(s);
		if (strcmp(o->path, "database.backend") == 0) {
			if (strcmp(v, "sqlite") == 0)
				c->db.backend = NORC_DB_SQLITE;
			else if (strcmp(v, "mariadb") == 0)
				c->db.backend = NORC_DB_MARIADB;
			else
				return bad(err, errlen, c, s, path,
					   "must be \"sqlite\" or \"mariadb\"");
			return NORC_OK;
		}
		char **field = (char **)(base + o->off);
		free(*field);
		*field = o->type == OPT_PATH ? resolve(c, v) : norc_xstrdup(v);
		return NORC_OK;
	}
	case OPT_INT: {
		int t = config_setting_type(s);
		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
			break;
		long long v = config_setting_get_int64(s);
		if (v < o->min || v > o->max) {
			snprintf(msg, sizeof(msg), "%lld is out of range; use %lld to %lld", v, o->min,
				 o->max);
			return bad(err, errlen, c, s, path, msg);
		}
		*(int *)(base + o->off) = (int)v;
		return NORC_OK;
	}
	case OPT_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			break;
		*(bool *)(base + o->off) = config_setting_get_bool(s);
		return NORC_OK;
	case OPT_PARAMS: {
		if (config_setting_type(s) != CONFIG_TYPE_GROUP)
			break;
		struct norc_params **field = (struct norc_params **)(base + o->off);
		norc_params_free(*field);
		*field = norc_params_new();
		int n = config_setting_length(s);
		for (int i = 0; i < n; i++) {
			config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			char v[64];
			const char *val = v;
			switch (config_setting_type(e)) {
			case CONFIG_TYPE_STRING: val = config_setting_get_string(e); break;
			case CONFIG_TYPE_INT:
			case CONFIG_TYPE_INT64:
				snprintf(v, sizeof(v), "%lld", config_setting_get_int64(e));
				break;
			case CONFIG_TYPE_FLOAT:
				snprintf(v, sizeof(v), "%g", config_setting_get_float(e));
				break;
			case CONFIG_TYPE_BOOL:
				val = config_setting_get_bool(e) ? "true" : "false";
				break;
			default:
				snprintf(msg, sizeof(msg), "%s: must be a string, number or true/false",
					 config_setting_name(e));
				return bad(err, errlen, c, e, path, msg);
			}
			norc_params_set(*field, config_setting_name(e), val);
		}
		return NORC_OK;
	}
	case OPT_PATH_LIST: {
		int t = config_setting_type(s);
		if (t != CONFIG_TYPE_LIST && t != CONFIG_TYPE_ARRAY)
			break;
		int n = config_setting_length(s);
		for (int i = 0; i < n; i++) {
			config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			if (config_setting_type(e) != CONFIG_TYPE_STRING)
				return bad(err, errlen, c, s, path, "every entry must be a string");
			if (!*config_setting_get_string(e))
				return bad(err, errlen, c, s, path, "entries must be non-empty paths");
		}
		c->plugin_dirs = norc_xcalloc((size_t)n + 1, sizeof(char *));
		for (int i = 0; i < n; i++) {
			const char *v = config_setting_get_string_elem(s, i);
			c->plugin_dirs[c->n_plugin_dirs++] = resolve(c, v);
		}
		return NORC_OK;
	}
	}
	snprintf(msg, sizeof(msg), "wrong type; it must be %s", type_name(o->type));
	return bad(err, errlen, c, s, path, msg);
}

static int walk(struct norc_config *c, config_setting_t *group, const char *prefix, char *err,
		size_t errlen)
{
	int n = config_setting_length(group);
	for (int i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		char path[256];
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", name ? name : "?");
		const struct opt *o = find_opt(path);
		if (!o)
			return bad(err, errlen, c, s, path,
				   "unknown setting; check its spelling against conf/norc.conf");
		int rc = store(c, o, s, path, err, errlen);
		if (rc != NORC_OK)
			return rc;
		if (o->type == OPT_GROUP && (rc = walk(c, s, path, err, errlen)) != NORC_OK)
			return rc;
	}
	return NORC_OK;
}

static void set_defaults(struct norc_config *c)
{
	c->db.backend = NORC_DB_SQLITE;
	c->db.busy_timeout_ms = 5000;
	c->db.port = 3306;
	c->db.connect_timeout_s = 10;
	c->db.io_timeout_s = 60;
	c->heartbeat_s = 3;
	c->heartbeat_timeout_s = 20;
	c->stop_timeout_s = 600;
	c->kill_grace_s = 5;
	c->finally_timeout_s = 30;
	c->log_max_mb = 1024;
	c->backup.timeout_s = 300;
	c->alerts.timeout_s = 30;
	c->alerts.attempts = 10;
	c->alerts.retry_delay_s = 30;
	c->alerts.keep_days = 30;
	c->web.session_idle_s = 3600;
	c->web.session_max_s = 12 * 3600;
}

static int check(struct norc_config *c, char *err, size_t errlen)
{
	char msg[300];
	if (!c->log_dir)
		c->log_dir = resolve(c, "log");
	if (!c->tmp_dir)
		c->tmp_dir = resolve(c, "tmp");
	if (c->db.backend == NORC_DB_SQLITE && !c->db.path)
		return norc_err_set(err, errlen, NORC_ECONFIG,
				    "config %s: database.path is required with backend \"sqlite\"",
				    c->file);
	if (c->db.backend == NORC_DB_MARIADB) {
		if (!c->db.name)
			return norc_err_set(err, errlen, NORC_ECONFIG,
					    "config %s: database.name is required with backend "
					    "\"mariadb\"", c->file);
		if (!c->db.user)
			c->db.user = norc_xstrdup("norc");
		int sources = !!c->db.password + !!c->db.password_env + !!c->db.password_file;
		if (sources > 1)
			return norc_err_set(err, errlen, NORC_ECONFIG,
					    "config %s: set only one of database.password, "
					    "password_env and password_file", c->file);
	}
	if (c->backup.settings && !c->backup.plugin)
		return norc_err_set(err, errlen, NORC_ECONFIG,
				    "config %s: backup.settings is set but backup.plugin is not; name "
				    "the plugin (S3 or LocalBackup)", c->file);
	if (!c->backup.settings)
		c->backup.settings = norc_params_new();
	if (c->alerts.smtp_url && strncmp(c->alerts.smtp_url, "smtp://", 7) != 0 &&
	    strncmp(c->alerts.smtp_url, "smtps://", 8) != 0)
		return norc_err_set(err, errlen, NORC_ECONFIG,
				    "config %s: alerts.smtp_url is \"%s\"; use smtp://HOST[:PORT] or "
				    "smtps://HOST[:PORT]", c->file, c->alerts.smtp_url);
	if (c->tasks.user && norc_runas_check(c->tasks.user, msg, sizeof(msg)) != NORC_OK)
		return norc_err_set(err, errlen, NORC_ECONFIG, "config %s: tasks.user: %s", c->file,
				    msg);
	if (c->alerts.from) {
		const char *at = strchr(c->alerts.from, '@');
		bool ok = at && at != c->alerts.from && at[1];
		for (const unsigned char *p = (const unsigned char *)c->alerts.from; ok && *p; p++)
			ok = *p > ' ' && *p < 127 && !strchr("<>()[],;:\\\"", *p);
		if (!ok)
			return norc_err_set(err, errlen, NORC_ECONFIG,
					    "config %s: alerts.from \"%s\" is not an e-mail address; "
					    "give one like norc@example.com", c->file, c->alerts.from);
	}
	if (c->alerts.smtp_password && c->alerts.smtp_password_file)
		return norc_err_set(err, errlen, NORC_ECONFIG,
				    "config %s: set only one of alerts.smtp_password and "
				    "alerts.smtp_password_file", c->file);
	if ((c->alerts.smtp_password || c->alerts.smtp_password_file) && !c->alerts.smtp_user)
		return norc_err_set(err, errlen, NORC_ECONFIG,
				    "config %s: alerts.smtp_password is set but alerts.smtp_user is "
				    "not; set the login too", c->file);
	if (!c->web.listen)
		c->web.listen = norc_xstrdup("127.0.0.1:8470");
	if (!c->web.anonymous)
		c->web.anonymous = norc_xstrdup("none");
	if (strcmp(c->web.anonymous, "none") != 0 && strcmp(c->web.anonymous, "viewer") != 0)
		return norc_err_set(err, errlen, NORC_ECONFIG,
				    "config %s: web.anonymous is \"%s\"; use \"none\" (log in to "
				    "see anything) or \"viewer\" (read-only without login)", c->file,
				    c->web.anonymous);
	if (!c->web.tls_cert != !c->web.tls_key)
		return norc_err_set(err, errlen, NORC_ECONFIG,
				    "config %s: set both web.tls_cert and web.tls_key for HTTPS, or "
				    "neither", c->file);
	if (!c->web.root)
		c->web.root = norc_xstrdup(NORC_WEB_ROOT);
	if (c->heartbeat_timeout_s <= c->heartbeat_s)
		return norc_err_set(err, errlen, NORC_ECONFIG,
				    "config %s: daemon.heartbeat_timeout (%d) must be larger than "
				    "daemon.heartbeat (%d)", c->file, c->heartbeat_timeout_s,
				    c->heartbeat_s);
	return NORC_OK;
}

int norc_config_load(const char *path, struct norc_config **out, char *err, size_t errlen)
{
	*out = NULL;
	char abs[PATH_MAX];
	if (!realpath(path, abs))
		return norc_err_set(err, errlen, NORC_ECONFIG,
				    "config %s: cannot read it (%s); pass -C FILE or set NORC_CONFIG "
				    "(conf/norc.conf in the source tree is a working example)",
				    path, strerror(errno));
	struct norc_config *c = norc_xcalloc(1, sizeof(*c));
	c->file = norc_xstrdup(abs);
	char *slash = strrchr(abs, '/');
	c->dir = slash == abs ? norc_xstrdup("/") : (*slash = '\0', norc_xstrdup(abs));
	set_defaults(c);

	config_t lc;
	config_init(&lc);
	int rc = NORC_OK;
	if (!config_read_file(&lc, c->file)) {
		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
			rc = norc_err_set(err, errlen, NORC_ECONFIG, "config %s: cannot read it",
					  c->file);
		else
			rc = norc_err_set(err, errlen, NORC_ECONFIG, "config %s:%d: %s",
					  config_error_file(&lc) ? config_error_file(&lc) : c->file,
					  config_error_line(&lc), config_error_text(&lc));
	}
	if (rc == NORC_OK)
		rc = walk(c, config_root_setting(&lc), "", err, errlen);
	config_destroy(&lc); /* every string was copied */
	if (rc == NORC_OK)
		rc = check(c, err, errlen);
	if (rc != NORC_OK) {
		norc_config_free(c);
		return rc;
	}
	*out = c;
	return NORC_OK;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int norc_config_reload(struct norc_config *cfg, char *restart_note, size_t notelen, char *err,
		       size_t errlen)
{
	struct norc_config *n;
	int rc = norc_config_load(cfg->file, &n, err, errlen);
	if (rc != NORC_OK)
		return rc;
	cfg->heartbeat_s = n->heartbeat_s;
	cfg->heartbeat_timeout_s = n->heartbeat_timeout_s;
	cfg->kill_grace_s = n->kill_grace_s;
	cfg->stop_timeout_s = n->stop_timeout_s;
	cfg->finally_timeout_s = n->finally_timeout_s;
	cfg->log_max_mb = n->log_max_mb;
	char *t = cfg->log_dir;
	cfg->log_dir = n->log_dir;
	n->log_dir = t;
	/* what this process holds open: only a restart changes it */
	bool db = n->db.backend != cfg->db.backend || !same_str(n->db.path, cfg->db.path) ||
		  !same_str(n->db.host, cfg->db.host) || n->db.port != cfg->db.port ||
		  !same_str(n->db.socket, cfg->db.socket) || !same_str(n->db.user, cfg->db.user) ||
		  !same_str(n->db.name, cfg->db.name);
	bool plugins = n->n_plugin_dirs != cfg->n_plugin_dirs;
	for (size_t i = 0; !plugins && i < n->n_plugin_dirs; i++)
		plugins = strcmp(n->plugin_dirs[i], cfg->plugin_dirs[i]) != 0;
	bool tmp = !same_str(n->tmp_dir, cfg->tmp_dir);
	char *ja = norc_params_to_json(n->backup.settings);
	char *jb = norc_params_to_json(cfg->backup.settings);
	bool backup = !same_str(n->backup.plugin, cfg->backup.plugin) || strcmp(ja, jb) != 0 ||
		      n->backup.timeout_s != cfg->backup.timeout_s;
	free(ja);
	free(jb);
	cfg->backup.keep_local_days = n->backup.keep_local_days;
	char *tuser = cfg->tasks.user; /* who tasks run as: the next run uses it */
	cfg->tasks = n->tasks;
	n->tasks.user = tuser;
	struct norc_config_alerts alerts = cfg->alerts; /* alert delivery: the next batch uses it */
	cfg->alerts = n->alerts;
	n->alerts = alerts;
	snprintf(restart_note, notelen, "%s%s%s%s", db ? " database" : "",
		 plugins ? " plugin_dirs" : "", tmp ? " tmp_dir" : "", backup ? " backup" : "");
	norc_config_free(n);
	return NORC_OK;
}

uint64_t norc_config_db_scope(const struct norc_config *c)
{
	char id[2048];
	snprintf(id, sizeof(id), "%d|%s|%s|%d|%s|%s|%s", (int)c->db.backend,
		 c->db.path ? c->db.path : "", c->db.host ? c->db.host : "", c->db.port,
		 c->db.socket ? c->db.socket : "", c->db.user ? c->db.user : "",
		 c->db.name ? c->db.name : "");
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return h;
}

static int read_password_file(const char *path, char **out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return norc_err_set(err, errlen, NORC_ECONFIG,
				    "database.password_file %s: cannot read it: %s", path,
				    strerror(errno));
	char buf[1024];
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	*out = norc_xstrdup(buf);
	return NORC_OK;
}

int norc_config_db(const struct norc_config *c, struct norc_db_config *out, char **password_buf,
		   char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	*password_buf = NULL;
	out->backend = c->db.backend;
	out->path = c->db.path;
	out->busy_timeout_ms = c->db.busy_timeout_ms;
	out->host = c->db.host;
	out->port = c->db.port;
	out->socket = c->db.socket;
	out->user = c->db.user;
	out->database = c->db.name;
	out->connect_timeout_s = c->db.connect_timeout_s;
	out->io_timeout_s = c->db.io_timeout_s;
	out->password = c->db.password;
	if (c->db.password_file) {
		int rc = read_password_file(c->db.password_file, password_buf, err, errlen);
		if (rc != NORC_OK)
			return rc;
		out->password = *password_buf;
	} else if (c->db.password_env) {
		const char *v = getenv(c->db.password_env);
		if (!v)
			return norc_err_set(err, errlen, NORC_ECONFIG,
					    "database.password_env names %s, which is not set in "
					    "the environment; export it or change the config",
					    c->db.password_env);
		out->password = v;
	}
	return NORC_OK;
}

bool norc_config_secret_key(const char *key)
{
	static const char *const words[] = {"secret", "password", "token", "credential"};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasestr(key, words[i]) && !strstr(key, "_file") && !strstr(key, "_env"))
			return true;
	return false;
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

void norc_config_print(const struct norc_config *c, FILE *out, bool json)
{
	json_t *o = json_object();
	json_object_set_new(o, "config_file", json_string(c->file));
	json_t *d = json_object();
	json_object_set_new(d, "backend",
			    json_string(c->db.backend == NORC_DB_MARIADB ? "mariadb" : "sqlite"));
	if (c->db.backend == NORC_DB_SQLITE) {
		json_object_set_new(d, "path", str_or_null(c->db.path));
		json_object_set_new(d, "busy_timeout_ms", json_integer(c->db.busy_timeout_ms));
	} else {
		json_object_set_new(d, "host", str_or_null(c->db.host));
		json_object_set_new(d, "port", json_integer(c->db.port));
		json_object_set_new(d, "socket", str_or_null(c->db.socket));
		json_object_set_new(d, "user", str_or_null(c->db.user));
		json_object_set_new(d, "password", c->db.password ? json_string("********") : json_null());
		json_object_set_new(d, "password_env", str_or_null(c->db.password_env));
		json_object_set_new(d, "password_file", str_or_null(c->db.password_file));
		json_object_set_new(d, "name", str_or_null(c->db.name));
		json_object_set_new(d, "connect_timeout", json_integer(c->db.connect_timeout_s));
		json_object_set_new(d, "io_timeout", json_integer(c->db.io_timeout_s));
	}
	json_object_set_new(o, "database", d);
	json_object_set_new(o, "log_dir", str_or_null(c->log_dir));
	json_object_set_new(o, "tmp_dir", str_or_null(c->tmp_dir));
	json_object_set_new(o, "timezone", json_string(c->timezone ? c->timezone : "UTC"));
	json_t *pd = json_array();
	for (size_t i = 0; i < c->n_plugin_dirs; i++)
		json_array_append_new(pd, json_string(c->plugin_dirs[i]));
	json_object_set_new(o, "plugin_dirs", pd);
	json_t *dm = json_object();
	json_object_set_new(dm, "heartbeat", json_integer(c->heartbeat_s));
	json_object_set_new(dm, "heartbeat_timeout", json_integer(c->heartbeat_timeout_s));
	json_object_set_new(dm, "kill_grace", json_integer(c->kill_grace_s));
	json_object_set_new(dm, "stop_timeout", json_integer(c->stop_timeout_s));
	json_object_set_new(dm, "finally_timeout", json_integer(c->finally_timeout_s));
	json_object_set_new(dm, "log_max_mb", json_integer(c->log_max_mb));
	json_object_set_new(o, "daemon", dm);
	json_t *bk = json_object();
	json_object_set_new(bk, "plugin", str_or_null(c->backup.plugin));
	json_object_set_new(bk, "timeout", json_integer(c->backup.timeout_s));
	json_object_set_new(bk, "keep_local_days", json_integer(c->backup.keep_local_days));
	for (size_t i = 0; c->backup.settings && i < norc_params_count(c->backup.settings); i++) {
		const char *k = norc_params_key(c->backup.settings, i);
		char *key = norc_xasprintf("settings.%s", k);
		json_object_set_new(bk, key, json_string(norc_config_secret_key(k)
							     ? "********"
							     : norc_params_value(c->backup.settings, i)));
		free(key);
	}
	json_object_set_new(o, "backup", bk);
	json_t *tk = json_object();
	json_object_set_new(tk, "user", str_or_null(c->tasks.user));
	json_object_set_new(tk, "allow_root", json_boolean(c->tasks.allow_root));
	json_object_set_new(o, "tasks", tk);
	json_t *al = json_object();
	json_object_set_new(al, "smtp_url", str_or_null(c->alerts.smtp_url));
	json_object_set_new(al, "smtp_user", str_or_null(c->alerts.smtp_user));
	json_object_set_new(al, "smtp_password",
			    c->alerts.smtp_password ? json_string("********") : json_null());
	json_object_set_new(al, "smtp_password_file", str_or_null(c->alerts.smtp_password_file));
	json_object_set_new(al, "from", str_or_null(c->alerts.from));
	json_object_set_new(al, "link", str_or_null(c->alerts.link));
	json_object_set_new(al, "timeout", json_integer(c->alerts.timeout_s));
	json_object_set_new(al, "attempts", json_integer(c->alerts.attempts));
	json_object_set_new(al, "retry_delay", json_integer(c->alerts.retry_delay_s));
	json_object_set_new(al, "keep_days", json_integer(c->alerts.keep_days));
	json_object_set_new(o, "alerts", al);
	if (c->web.enabled) {
		json_t *w = json_object();
		json_object_set_new(w, "listen", str_or_null(c->web.listen));
		json_object_set_new(w, "root", str_or_null(c->web.root));
		json_object_set_new(w, "tls_cert", str_or_null(c->web.tls_cert));
		json_object_set_new(w, "tls_key", str_or_null(c->web.tls_key));
		json_object_set_new(w, "anonymous", str_or_null(c->web.anonymous));
		json_object_set_new(w, "session_idle", json_integer(c->web.session_idle_s));
		json_object_set_new(w, "session_max", json_integer(c->web.session_max_s));
		json_object_set_new(w, "users_file", str_or_null(c->web.users_file));
		json_t *u = json_array();
		for (size_t i = 0; i < c->web.n_users; i++) {
			const char *n = norc_params_get(c->web.users[i], "name");
			json_array_append_new(u, json_string(n ? n : "?"));
		}
		json_object_set_new(w, "users", u); /* names only: no hashes */
		json_object_set_new(w, "tokens", json_integer((json_int_t)c->web.n_tokens));
		json_object_set_new(o, "web", w);
	}
	if (json) {
		json_dumpf(o, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', out);
	} else {
		const char *k;
		json_t *v;
		json_object_foreach(o, k, v) {
			if (json_is_object(v)) {
				const char *k2;
				json_t *v2;
				json_object_foreach(v, k2, v2) {
					char *s = json_dumps(v2, JSON_ENCODE_ANY);
					fprintf(out, "%s.%s = %s\n", k, k2, s);
					free(s);
				}
			} else {
				char *s = json_dumps(v, JSON_ENCODE_ANY);
				fprintf(out, "%s = %s\n", k, s);
				free(s);
			}
		}
	}
	json_decref(o);
}
