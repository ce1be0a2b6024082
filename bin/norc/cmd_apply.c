/*
 * cmd_apply.c - `norc apply FILE [--dry-run] [--prune]`: make the database hold what a
 * declarative libconfig file describes (queues, tasks, jobs with their nodes and
 * dependencies, schedules), idempotently. docs/operations.md has the file format.
 *
 * Three steps: read and check the whole file (unknown keys, types, durations, cron rules,
 * zones, policies, references, job cycles: each error names the file, line and fix, and
 * nothing changes); compare it with the database into a plan; print the plan and, unless
 * --dry-run, carry it out through the same commands a person would type (`norc task add`,
 * `schedule set`, `job dep`...), so every change gets their checks. Objects are matched by
 * name; a schedule by its task, queue and rule. What the file does not mention is left alone
 * unless --prune (then tasks, jobs and queues not in the file are removed; history stays).
 */
#include "alert.h"
#include "cli.h"
#include "runas.h"
#include "cron.h"
#include "jobdef.h"
#include "mem.h"
#include "model.h"
#include "sched.h"
#include "table.h"
#include "tz.h"

#include "clock.h"
#include <fcntl.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the file ---- */

struct want_sched {
	const char *queue, *cron, *tz, *catch_up, *start;
	long long period; /* -1 for a cron rule */
	int reps;
	int line;
};

struct want_task {
	const char *name, *type, *description, *overlap;
	const char *run_as; /* NULL: none */
	char limits[256];   /* normalized (runas.h); "": none */
	json_t *params;     /* the task's parameters (owned) */
	char timeout[32], retry_delay[32], retry_max_delay[32];
	int nice, retries;
	bool job, fail_fast;
	struct want_sched *scheds;
	size_t nscheds;
	const char **node_names, **node_tasks; /* jobs */
	size_t nnodes;
	const char **dep_parent, **dep_child;
	size_t ndeps;
	/* its alert rule (alert.h): has_alert false when the file has no `alert` group;
	 * alert_empty for `alert = { };` (no rule) */
	bool has_alert, alert_empty;
	int alert_events;
	char deadline[32], no_success[32];
	char *email; /* owned: a list is joined with commas */
	const char *webhook;
	int line;
};

struct want {
	config_t lc; /* strings are borrowed from it */
	const char *file;
	struct want_task *tasks;
	size_t ntasks;
	const char **queue_names, **queue_types;
	json_t **queue_params;
	size_t nqueues;
};

static int fail_at(const struct want *w, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail_at(const struct want *w, const config_setting_t *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "norc: error: apply %s:%d: %s\n", w->file,
		s ? config_setting_source_line(s) : 0, msg);
	return -1;
}

/* Every key of group g must be one of keys (space-separated). */
static int only_keys(const struct want *w, const config_setting_t *g, const char *what,
		     const char *keys)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *e = config_setting_get_elem(g, (unsigned)i);
		const char *k = config_setting_name(e);
		size_t kl = strlen(k);
		const char *p = keys;
		bool ok = false;
		while ((p = strstr(p, k))) {
			if ((p == keys || p[-1] == ' ') && (p[kl] == ' ' || !p[kl])) {
				ok = true;
				break;
			}
			p += kl;
		}
		if (!ok)
			return fail_at(w, e, "%s: unknown key '%s'; the keys are: %s", what, k, keys);
	}
	return 0;
}

/* A string member that must be a string when present. */
static int get_str(const struct want *w, const config_setting_t *g, const char *key,
		   const char **out, bool required, const char *what)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	*out = NULL;
	if (!s)
		return required ? fail_at(w, g, "%s: '%s' is required", what, key) : 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail_at(w, s, "%s: '%s' must be a string in double quotes", what, key);
	*out = config_setting_get_string(s);
	return 0;
}

static int get_int(const struct want *w, const config_setting_t *g, const char *key, long long min,
		   long long max, long long dflt, long long *out, const char *what)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	*out = dflt;
	if (!s)
		return 0;
	int t = config_setting_type(s);
	if ((t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) ||
	    config_setting_get_int64(s) < min || config_setting_get_int64(s) > max)
		return fail_at(w, s, "%s: '%s' must be a whole number from %lld to %lld", what, key,
			       min, max);
	*out = config_setting_get_int64(s);
	return 0;
}

/* A duration: a number of seconds or a string such as "5m"; into buf as text. */
static int get_duration(const struct want *w, const config_setting_t *g, const char *key,
			const char *dflt, char *buf, size_t len, const char *what)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	snprintf(buf, len, "%s", dflt);
	if (!s)
		return 0;
	int64_t secs;
	int t = config_setting_type(s);
	if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
		snprintf(buf, len, "%lld", config_setting_get_int64(s));
	else if (t == CONFIG_TYPE_STRING)
		snprintf(buf, len, "%s", config_setting_get_string(s));
	else
		buf[0] = '\0';
	if (!buf[0] || norc_clock_parse_duration(buf, &secs) != NORC_OK)
		return fail_at(w, s, "%s: '%s' must be seconds or a duration such as 30s, 5m, 2h, 1d",
			       what, key);
	snprintf(buf, len, "%lld", (long long)secs);
	return 0;
}

/* A group of plain values as a JSON object (the params of a task or queue): strings, whole
 * numbers and true/false. NULL (error printed) for anything else. */
static json_t *params_of(const struct want *w, const config_setting_t *g, const char *what)
{
	json_t *o = json_object();
	if (g && config_setting_type(g) != CONFIG_TYPE_GROUP) {
		fail_at(w, g, "%s: params must be a group of values: params: { key = \"value\"; }",
			what);
		json_decref(o);
		return NULL;
	}
	for (int i = 0; g && i < config_setting_length(g); i++) {
		const config_setting_t *e = config_setting_get_elem(g, (unsigned)i);
		char v[64];
		switch (config_setting_type(e)) {
		case CONFIG_TYPE_STRING:
			json_object_set_new(o, config_setting_name(e),
					    json_string(config_setting_get_string(e)));
			break;
		case CONFIG_TYPE_INT:
		case CONFIG_TYPE_INT64:
			snprintf(v, sizeof(v), "%lld", config_setting_get_int64(e));
			json_object_set_new(o, config_setting_name(e), json_string(v));
			break;
		case CONFIG_TYPE_BOOL:
			json_object_set_new(o, config_setting_name(e),
					    json_string(config_setting_get_bool(e) ? "true" : "false"));
			break;
		default:
			fail_at(w, e, "%s: parameter %s must be a string, a whole number or true/false",
				what, config_setting_name(e));
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* A message of alert.h's checks without its leading "--option: ". */
static const char *after_flag(const char *err)
{
	const char *c = strncmp(err, "--", 2) == 0 ? strstr(err, ": ") : NULL;
	return c ? c + 2 : err;
}

/* A task's `alert = { on = "failure,exhausted"; deadline = "45m"; no_success = "1d";
 * email = "a@b" or ["a@b", "c@d"]; webhook = "https://..."; };`, checked as `norc alert set`
 * would; `alert = { };` means no rule. */
static int read_alert(struct want *w, const config_setting_t *g, struct want_task *t)
{
	const config_setting_t *a = config_setting_get_member(g, "alert");
	if (!a)
		return 0;
	if (config_setting_type(a) != CONFIG_TYPE_GROUP)
		return fail_at(w, a, "%s: alert must be a group { on = \"failure\"; email = ...; }",
			       t->name);
	t->has_alert = true;
	t->alert_empty = config_setting_length(a) == 0;
	if (t->alert_empty)
		return 0;
	char what[200], err[400];
	snprintf(what, sizeof(what), "%s: alert", t->name);
	const char *on = NULL;
	if (only_keys(w, a, what, "on deadline no_success email webhook") ||
	    get_str(w, a, "on", &on, false, what) ||
	    get_duration(w, a, "deadline", "0", t->deadline, sizeof(t->deadline), what) ||
	    get_duration(w, a, "no_success", "0", t->no_success, sizeof(t->no_success), what) ||
	    get_str(w, a, "webhook", &t->webhook, false, what))
		return -1;
	if (on && norc_alert_on_parse(on, &t->alert_events, err, sizeof(err)) != NORC_OK)
		return fail_at(w, config_setting_get_member(a, "on"), "%s: %s", what, after_flag(err));
	const config_setting_t *e = config_setting_get_member(a, "email");
	if (e && config_setting_type(e) == CONFIG_TYPE_STRING) {
		t->email = norc_xstrdup(config_setting_get_string(e));
	} else if (e && (config_setting_type(e) == CONFIG_TYPE_LIST ||
			 config_setting_type(e) == CONFIG_TYPE_ARRAY)) {
		for (int i = 0; i < config_setting_length(e); i++) {
			const char *addr = config_setting_get_string_elem(e, i);
			if (!addr)
				return fail_at(w, e, "%s: email must be a string or a list of strings",
					       what);
			char *j = norc_xasprintf("%s%s%s", t->email ? t->email : "",
						 t->email ? "," : "", addr);
			free(t->email);
			t->email = j;
		}
	} else if (e) {
		return fail_at(w, e, "%s: email must be a string or a list of strings", what);
	}
	if (t->email && norc_alert_check_email(t->email, err, sizeof(err)) != NORC_OK)
		return fail_at(w, e, "%s: %s", what, after_flag(err));
	if (t->webhook && norc_alert_check_webhook(t->webhook, err, sizeof(err)) != NORC_OK)
		return fail_at(w, config_setting_get_member(a, "webhook"), "%s: %s", what,
			       after_flag(err));
	if (!t->alert_events && !atoll(t->deadline) && !atoll(t->no_success))
		return fail_at(w, a, "%s watches nothing; give on, deadline or no_success (alert = "
			       "{ }; for no alert)", what);
	if (!t->email && !t->webhook)
		return fail_at(w, a, "%s has no destination; give email or webhook", what);
	return 0;
}

static int read_schedules(struct want *w, const config_setting_t *g, struct want_task *t,
			  const struct norc_config *cfg)
{
	const config_setting_t *l = config_setting_get_member(g, "schedules");
	if (!l)
		return 0;
	if (config_setting_type(l) != CONFIG_TYPE_LIST)
		return fail_at(w, l, "%s: schedules must be a list of groups ( { ... } )", t->name);
	t->nscheds = (size_t)config_setting_length(l);
	t->scheds = norc_xcalloc(t->nscheds + 1, sizeof(*t->scheds));
	for (size_t i = 0; i < t->nscheds; i++) {
		config_setting_t *s = config_setting_get_elem(l, (unsigned)i);
		struct want_sched *x = &t->scheds[i];
		char what[200], err[300], dur[32];
		snprintf(what, sizeof(what), "%s, schedule %zu", t->name, i + 1);
		x->line = config_setting_source_line(s);
		long long reps;
		if (config_setting_type(s) != CONFIG_TYPE_GROUP ||
		    only_keys(w, s, what, "queue period cron tz reps catch_up start") ||
		    get_str(w, s, "queue", &x->queue, true, what) ||
		    get_str(w, s, "cron", &x->cron, false, what) ||
		    get_str(w, s, "tz", &x->tz, false, what) ||
		    get_str(w, s, "catch_up", &x->catch_up, false, what) ||
		    get_str(w, s, "start", &x->start, false, what))
			return config_setting_type(s) != CONFIG_TYPE_GROUP
				       ? fail_at(w, s, "%s: must be a group { ... }", what) : -1;
		bool has_period = config_setting_get_member(s, "period") != NULL;
		if (has_period == (x->cron != NULL))
			return fail_at(w, s, "%s: give exactly one of period and cron", what);
		x->period = -1;
		if (has_period) {
			if (get_duration(w, s, "period", "0", dur, sizeof(dur), what))
				return -1;
			x->period = atoll(dur);
			if (x->tz)
				return fail_at(w, s, "%s: tz goes with a cron rule, not a period", what);
		} else {
			struct norc_cron cr;
			if (norc_cron_parse(x->cron, NULL, NULL, &cr, err, sizeof(err)) != NORC_OK)
				return fail_at(w, s, "%s: %s", what, err);
			if (!x->tz)
				x->tz = cfg->timezone ? cfg->timezone : "UTC";
			struct norc_tz *tz;
			if (norc_tz_load(x->tz, &tz, err, sizeof(err)) != NORC_OK)
				return fail_at(w, s, "%s: %s", what, err);
			norc_tz_free(tz);
		}
		if (get_int(w, s, "reps", 0, 1000000000, has_period ? 1 : 0, &reps, what))
			return -1;
		x->reps = (int)reps;
		int64_t when;
		if (x->start && norc_clock_parse(x->start, norc_clock_now_us(), &when) != NORC_OK)
			return fail_at(w, s, "%s: start '%s': give now, +SECONDS, +5m, @EPOCH or "
				       "'YYYY-MM-DD HH:MM[:SS]' (UTC)", what, x->start);
		int pol, max;
		if (!x->catch_up)
			x->catch_up = "latest";
		if (norc_sched_catch_up_parse(x->catch_up, &pol, &max) < 0)
			return fail_at(w, s, "%s: catch_up '%s': use skip, latest, all or all:N", what,
				       x->catch_up);
	}
	return 0;
}

/* Read and check the file into *w. 0, or -1 with the error printed. */
static int read_want(struct want *w, const struct norc_config *cfg)
{
	config_init(&w->lc);
	if (!config_read_file(&w->lc, w->file)) {
		if (config_error_type(&w->lc) == CONFIG_ERR_FILE_IO)
			fprintf(stderr, "norc: error: apply %s: cannot read it\n", w->file);
		else
			fprintf(stderr, "norc: error: apply %s:%d: %s\n", w->file,
				config_error_line(&w->lc), config_error_text(&w->lc));
		return -1;
	}
	const config_setting_t *root = config_root_setting(&w->lc);
	if (only_keys(w, root, "the file", "queues tasks jobs"))
		return -1;
	const config_setting_t *ql = config_setting_get_member(root, "queues");
	size_t nq = ql ? (size_t)config_setting_length(ql) : 0;
	if (ql && config_setting_type(ql) != CONFIG_TYPE_LIST)
		return fail_at(w, ql, "queues must be a list of groups ( { name = ...; } )");
	w->queue_names = norc_xcalloc(nq + 1, sizeof(char *));
	w->queue_types = norc_xcalloc(nq + 1, sizeof(char *));
	w->queue_params = norc_xcalloc(nq + 1, sizeof(json_t *));
	for (size_t i = 0; i < nq; i++) {
		config_setting_t *g = config_setting_get_elem(ql, (unsigned)i);
		const char *name, *type;
		if (config_setting_type(g) != CONFIG_TYPE_GROUP)
			return fail_at(w, g, "queue %zu: must be a group { name = ...; }", i + 1);
		if (only_keys(w, g, "queue", "name type params") ||
		    get_str(w, g, "name", &name, true, "queue") ||
		    get_str(w, g, "type", &type, false, name ? name : "queue"))
			return -1;
		for (size_t k = 0; k < w->nqueues; k++)
			if (strcmp(w->queue_names[k], name) == 0)
				return fail_at(w, g, "queue %s is defined twice", name);
		w->queue_names[w->nqueues] = name;
		w->queue_types[w->nqueues] = type ? type : "DBQueue";
		w->queue_params[w->nqueues] = params_of(w, config_setting_get_member(g, "params"), name);
		if (!w->queue_params[w->nqueues++])
			return -1;
	}
	static const char *const lists[] = {"tasks", "jobs"};
	size_t total = 0;
	for (int k = 0; k < 2; k++) {
		const config_setting_t *l = config_setting_get_member(root, lists[k]);
		if (l && config_setting_type(l) != CONFIG_TYPE_LIST)
			return fail_at(w, l, "%s must be a list of groups ( { name = ...; } )", lists[k]);
		total += l ? (size_t)config_setting_length(l) : 0;
	}
	w->tasks = norc_xcalloc(total + 1, sizeof(*w->tasks));
	for (int k = 0; k < 2; k++) {
		const config_setting_t *l = config_setting_get_member(root, lists[k]);
		for (int i = 0; l && i < config_setting_length(l); i++) {
			config_setting_t *g = config_setting_get_elem(l, (unsigned)i);
			struct want_task *t = &w->tasks[w->ntasks];
			t->job = k == 1;
			t->line = config_setting_source_line(g);
			const char *what = t->job ? "job" : "task";
			if (config_setting_type(g) != CONFIG_TYPE_GROUP)
				return fail_at(w, g, "%s %d: must be a group { name = ...; }", what,
					       i + 1);
			if (only_keys(w, g, what, t->job
				      ? "name description timeout retries retry_delay "
					"retry_max_delay overlap fail_fast nodes deps schedules alert"
				      : "name type command params description timeout nice retries "
					"retry_delay retry_max_delay overlap schedules alert run_as "
					"limits") ||
			    get_str(w, g, "name", &t->name, true, what))
				return -1;
			w->ntasks++;
			char errbuf[300];
			if (norc_model_check_name(what, t->name, 128, errbuf, sizeof(errbuf)) != NORC_OK)
				return fail_at(w, g, "%s", errbuf);
			for (size_t j = 0; j + 1 < w->ntasks; j++)
				if (strcmp(w->tasks[j].name, t->name) == 0)
					return fail_at(w, g, "%s is defined twice (tasks and jobs share "
						       "names)", t->name);
			const char *cmd = NULL;
			long long nice, retries;
			if (get_str(w, g, "type", &t->type, false, t->name) ||
			    get_str(w, g, "command", &cmd, false, t->name) ||
			    get_str(w, g, "description", &t->description, false, t->name) ||
			    get_str(w, g, "overlap", &t->overlap, false, t->name) ||
			    get_str(w, g, "run_as", &t->run_as, false, t->name) ||
			    get_duration(w, g, "timeout", "0", t->timeout, sizeof(t->timeout), t->name) ||
			    get_duration(w, g, "retry_delay", "0", t->retry_delay,
					 sizeof(t->retry_delay), t->name) ||
			    get_duration(w, g, "retry_max_delay", "3600", t->retry_max_delay,
					 sizeof(t->retry_max_delay), t->name) ||
			    get_int(w, g, "nice", -20, 19, 0, &nice, t->name) ||
			    get_int(w, g, "retries", 0, 100, 0, &retries, t->name))
				return -1;
			t->nice = (int)nice;
			t->retries = (int)retries;
			const char *lim = NULL;
			if (get_str(w, g, "limits", &lim, false, t->name))
				return -1;
			if (t->run_as && norc_runas_check(t->run_as, errbuf, sizeof(errbuf)) != NORC_OK)
				return fail_at(w, config_setting_get_member(g, "run_as"), "%s: %s",
					       t->name, errbuf);
			if (lim && norc_runas_limits_parse(lim, t->limits, sizeof(t->limits), errbuf,
							   sizeof(errbuf)) != NORC_OK)
				return fail_at(w, config_setting_get_member(g, "limits"), "%s: %s",
					       t->name, errbuf);
			if (!t->type)
				t->type = t->job ? NORC_JOBDEF_TYPE : "CommandTask";
			if (!t->description)
				t->description = "";
			if (!t->overlap)
				t->overlap = "allow";
			if (norc_sched_overlap_parse(t->overlap) < 0)
				return fail_at(w, g, "%s: overlap '%s': use allow, skip or queue", t->name,
					       t->overlap);
			t->params = params_of(w, config_setting_get_member(g, "params"), t->name);
			if (!t->params)
				return -1;
			if (cmd)
				json_object_set_new(t->params, "command", json_string(cmd));
			const config_setting_t *ff = config_setting_get_member(g, "fail_fast");
			if (ff && config_setting_type(ff) != CONFIG_TYPE_BOOL)
				return fail_at(w, ff, "%s: fail_fast must be true or false", t->name);
			t->fail_fast = ff && config_setting_get_bool(ff);
			if (t->fail_fast)
				json_object_set_new(t->params, "fail_fast", json_string("true"));
			if (!t->job && strcmp(t->type, "CommandTask") == 0 &&
			    !json_object_get(t->params, "command"))
				return fail_at(w, g, "task %s: give its command = \"...\";", t->name);
			if (read_schedules(w, g, t, cfg) || read_alert(w, g, t))
				return -1;
			if (!t->job)
				continue;
			const config_setting_t *nl = config_setting_get_member(g, "nodes");
			const config_setting_t *dl = config_setting_get_member(g, "deps");
			if (!nl || config_setting_type(nl) != CONFIG_TYPE_LIST)
				return fail_at(w, nl ? nl : g, "job %s: nodes = ( { name = \"a\"; task = "
					       "\"T\"; }, ... ) is required", t->name);
			t->nnodes = (size_t)config_setting_length(nl);
			t->node_names = norc_xcalloc(t->nnodes + 1, sizeof(char *));
			t->node_tasks = norc_xcalloc(t->nnodes + 1, sizeof(char *));
			for (size_t n = 0; n < t->nnodes; n++) {
				config_setting_t *e = config_setting_get_elem(nl, (unsigned)n);
				if (config_setting_type(e) != CONFIG_TYPE_GROUP ||
				    only_keys(w, e, t->name, "name task") ||
				    get_str(w, e, "name", &t->node_names[n], true, t->name) ||
				    get_str(w, e, "task", &t->node_tasks[n], true, t->name))
					return config_setting_type(e) != CONFIG_TYPE_GROUP
						       ? fail_at(w, e, "job %s: a node is a group { name "
								 "= ...; task = ...; }", t->name)
						       : -1;
				char nerr[300];
				if (norc_model_check_name("node", t->node_names[n], 128, nerr,
							  sizeof(nerr)) != NORC_OK)
					return fail_at(w, e, "job %s: %s", t->name, nerr);
				for (size_t m = 0; m < n; m++)
					if (strcmp(t->node_names[m], t->node_names[n]) == 0)
						return fail_at(w, e, "job %s: node %s is defined twice",
							       t->name, t->node_names[n]);
			}
			if (dl && config_setting_type(dl) != CONFIG_TYPE_LIST)
				return fail_at(w, dl, "job %s: deps = ( [\"parent\", \"child\"], ... )",
					       t->name);
			t->ndeps = dl ? (size_t)config_setting_length(dl) : 0;
			t->dep_parent = norc_xcalloc(t->ndeps + 1, sizeof(char *));
			t->dep_child = norc_xcalloc(t->ndeps + 1, sizeof(char *));
			struct norc_jobdef_edge *edges = norc_xcalloc(t->ndeps + 1, sizeof(*edges));
			for (size_t d = 0; d < t->ndeps; d++) {
				config_setting_t *e = config_setting_get_elem(dl, (unsigned)d);
				const char *a = config_setting_get_string_elem(e, 0);
				const char *b = config_setting_get_string_elem(e, 1);
				size_t pa = t->nnodes, pb = t->nnodes;
				for (size_t n = 0; a && b && n < t->nnodes; n++) {
					if (strcmp(t->node_names[n], a) == 0)
						pa = n;
					if (strcmp(t->node_names[n], b) == 0)
						pb = n;
				}
				if (!a || !b || config_setting_length(e) != 2 || pa == t->nnodes ||
				    pb == t->nnodes) {
					free(edges);
					return fail_at(w, e, "job %s: a dependency is [\"PARENT\", \"CHILD\"] "
						       "with two of its node names", t->name);
				}
				t->dep_parent[d] = a;
				t->dep_child[d] = b;
				edges[d] = (struct norc_jobdef_edge){pa, pb};
			}
			int *waves = norc_xcalloc(t->nnodes + 1, sizeof(int));
			int rc = norc_jobdef_waves(t->nnodes, edges, t->ndeps, waves);
			free(waves);
			free(edges);
			if (rc != NORC_OK)
				return fail_at(w, dl, "job %s: its dependencies contain a cycle", t->name);
		}
	}
	return 0;
}

static void free_want(struct want *w)
{
	for (size_t i = 0; i < w->ntasks; i++) {
		struct want_task *t = &w->tasks[i];
		json_decref(t->params);
		free(t->email);
		free(t->scheds);
		free(t->node_names);
		free(t->node_tasks);
		free(t->dep_parent);
		free(t->dep_child);
	}
	free(w->tasks);
	for (size_t i = 0; i < w->nqueues; i++)
		json_decref(w->queue_params[i]);
	free(w->queue_names);
	free(w->queue_types);
	free(w->queue_params);
	config_destroy(&w->lc);
}

/* ---- the plan ---- */

struct action {
	char *verb, *object, *detail;
	char **argv; /* a `norc` command line, NULL-terminated (owned) */
	int (*cmd)(struct norc_cli *, int, char **);
};

struct plan {
	struct action *v;
	size_t n, cap;
	bool prune; /* --prune: also remove alert rules the file's tasks no longer have */
};

static void add_action(struct plan *p, int (*cmd)(struct norc_cli *, int, char **),
		       const char *verb, const char *object, const char *detail, ...)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 16;
		p->v = norc_xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	struct action *a = &p->v[p->n++];
	a->verb = norc_xstrdup(verb);
	a->object = norc_xstrdup(object);
	a->detail = norc_xstrdup(detail ? detail : "");
	a->cmd = cmd;
	size_t n = 0, cap = 8;
	a->argv = norc_xcalloc(cap, sizeof(char *));
	va_list ap;
	va_start(ap, detail);
	const char *s;
	while ((s = va_arg(ap, const char *))) {
		if (n + 2 > cap)
			a->argv = norc_xrealloc(a->argv, (cap *= 2) * sizeof(char *));
		a->argv[n++] = norc_xstrdup(s);
	}
	va_end(ap);
	a->argv[n] = NULL;
}

/* Append more argv words to the last action. */
static void add_args(struct plan *p, const char *a, const char *b)
{
	struct action *x = &p->v[p->n - 1];
	size_t n = 0;
	while (x->argv[n])
		n++;
	x->argv = norc_xrealloc(x->argv, (n + 3) * sizeof(char *));
	x->argv[n++] = norc_xstrdup(a);
	if (b)
		x->argv[n++] = norc_xstrdup(b);
	x->argv[n] = NULL;
}

static void free_plan(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		for (char **a = p->v[i].argv; *a; a++)
			free(*a);
		free(p->v[i].argv);
		free(p->v[i].verb);
		free(p->v[i].object);
		free(p->v[i].detail);
	}
	free(p->v);
}

static bool in_list(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* The schedule rule as text, for the plan. */
static void rule_text(const struct want_sched *x, char *buf, size_t len)
{
	if (x->cron)
		snprintf(buf, len, "cron '%s' %s on %s", x->cron, x->tz, x->queue);
	else
		snprintf(buf, len, "every %llds on %s", x->period, x->queue);
}

/* Does live schedule row s have x's queue and rule? */
static bool same_rule(const json_t *s, const struct want_sched *x)
{
	if (strcmp(json_string_value(json_object_get(s, "queue")) ? json_string_value(json_object_get(s, "queue")) : "", x->queue) != 0)
		return false;
	const char *kind = json_string_value(json_object_get(s, "kind"));
	if (!x->cron)
		return kind && strcmp(kind, "period") == 0 &&
		       json_integer_value(json_object_get(s, "period")) == x->period;
	const char *cron = json_string_value(json_object_get(s, "cron"));
	const char *tz = json_string_value(json_object_get(s, "tz"));
	struct norc_cron a, b;
	char err[200];
	return kind && strcmp(kind, "cron") == 0 && cron &&
	       strcmp(tz ? tz : "UTC", x->tz) == 0 &&
	       norc_cron_parse(cron, NULL, NULL, &a, err, sizeof(err)) == NORC_OK &&
	       norc_cron_parse(x->cron, NULL, NULL, &b, err, sizeof(err)) == NORC_OK &&
	       norc_cron_equal(&a, &b);
}

static void plan_schedules(struct plan *p, const struct want_task *t, json_t *live)
{
	bool *used = norc_xcalloc(json_array_size(live) + 1, sizeof(bool));
	for (size_t i = 0; i < t->nscheds; i++) {
		const struct want_sched *x = &t->scheds[i];
		char rule[300], reps[16], detail[400];
		rule_text(x, rule, sizeof(rule));
		snprintf(reps, sizeof(reps), "%d", x->reps);
		size_t k;
		json_t *s;
		bool found = false;
		json_array_foreach(live, k, s) {
			if (used[k] || !same_rule(s, x))
				continue;
			used[k] = found = true;
			char id[24];
			snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT,
				 json_integer_value(json_object_get(s, "id")));
			int pol, max, cpol, cmax;
			norc_sched_catch_up_parse(x->catch_up, &pol, &max);
			const char *cur = json_string_value(json_object_get(s, "catch_up"));
			norc_sched_catch_up_parse(cur ? cur : "latest", &cpol, &cmax);
			cmax = (int)json_integer_value(json_object_get(s, "catch_up_max"));
			bool reps_diff = json_integer_value(json_object_get(s, "repetitions")) != x->reps;
			bool cu_diff = pol != cpol || (pol == 2 && max != cmax);
			if (!reps_diff && !cu_diff)
				break;
			snprintf(detail, sizeof(detail), "%s:%s%s", rule, reps_diff ? " reps" : "",
				 cu_diff ? " catch_up" : "");
			add_action(p, norc_cmd_schedule, "change", t->name, detail, "schedule", "set",
				   id, NULL);
			if (reps_diff)
				add_args(p, "--reps", reps);
			if (cu_diff)
				add_args(p, "--catch-up", x->catch_up);
			break;
		}
		if (found)
			continue;
		snprintf(detail, sizeof(detail), "schedule %s", rule);
		add_action(p, norc_cmd_schedule, "add", t->name, detail, "schedule", "add", t->name,
			   "--queue", x->queue, "--reps", reps, "--catch-up", x->catch_up, NULL);
		if (x->cron) {
			add_args(p, "--cron", x->cron);
			add_args(p, "--tz", x->tz);
		} else {
			char per[32];
			snprintf(per, sizeof(per), "%lld", x->period);
			add_args(p, "--period", per);
		}
		if (x->start)
			add_args(p, "--start", x->start);
	}
	size_t k;
	json_t *s;
	json_array_foreach(live, k, s) {
		if (used[k])
			continue;
		char id[24], detail[200];
		snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(json_object_get(s, "id")));
		snprintf(detail, sizeof(detail), "schedule #%s (not in the file)", id);
		add_action(p, norc_cmd_schedule, "remove", t->name, detail, "schedule", "rm", id, NULL);
	}
	free(used);
}

/* The run settings of task or job t against its row cur: `task set` for what differs. */
static void plan_settings(struct plan *p, const struct want_task *t, const json_t *cur)
{
	char diff[200] = "";
	struct {
		const char *key, *opt, *want;
	} f[] = {
		{"timeout", "--timeout", t->timeout},
		{"retry_delay", "--retry-delay", t->retry_delay},
		{"retry_max_delay", "--retry-max-delay", t->retry_max_delay},
	};
	char nice[16], retries[16];
	snprintf(nice, sizeof(nice), "%d", t->nice);
	snprintf(retries, sizeof(retries), "%d", t->retries);
	bool any = false;
	for (size_t i = 0; i < 3; i++)
		if (json_integer_value(json_object_get(cur, f[i].key)) != atoll(f[i].want)) {
			if (!any)
				add_action(p, norc_cmd_task, "change", t->name, "", "task", "set",
					   t->name, NULL);
			any = true;
			add_args(p, f[i].opt, f[i].want);
			strncat(diff, " ", sizeof(diff) - strlen(diff) - 1);
			strncat(diff, f[i].key, sizeof(diff) - strlen(diff) - 1);
		}
	struct {
		const char *key, *opt, *want;
		bool num;
	} g[] = {
		{"nice", "--nice", nice, true},
		{"retries", "--retries", retries, true},
		{"description", "--description", t->description, false},
		{"overlap", "--overlap", t->overlap, false},
		{"run_as", "--run-as", t->run_as ? t->run_as : "", false},
		{"limits", "--limit", t->limits, false},
	};
	for (size_t i = 0; i < (t->job ? 4 : 6); i++) {
		const json_t *v = json_object_get(cur, g[i].key);
		bool same = g[i].num ? json_integer_value(v) == atoll(g[i].want)
				     : strcmp(json_string_value(v) ? json_string_value(v) : "", g[i].want) == 0;
		if (same || (t->job && i == 0))
			continue;
		if (!any)
			add_action(p, norc_cmd_task, "change", t->name, "", "task", "set", t->name,
				   NULL);
		any = true;
		add_args(p, g[i].opt, g[i].want);
		strncat(diff, " ", sizeof(diff) - strlen(diff) - 1);
		strncat(diff, g[i].key, sizeof(diff) - strlen(diff) - 1);
	}
	if (any) {
		free(p->v[p->n - 1].detail);
		p->v[p->n - 1].detail = norc_xstrdup(diff + 1);
	}
}

/* `task add` / `job add` for t. */
static void plan_add(struct plan *p, const struct want_task *t, const char *verb)
{
	char nice[16], retries[16];
	snprintf(nice, sizeof(nice), "%d", t->nice);
	snprintf(retries, sizeof(retries), "%d", t->retries);
	add_action(p, t->job ? norc_cmd_job : norc_cmd_task, verb, t->name, t->job ? "job" : t->type,
		   t->job ? "job" : "task", "add", t->name, "--timeout", t->timeout, "--retries",
		   retries, "--retry-delay", t->retry_delay, "--retry-max-delay", t->retry_max_delay,
		   "--overlap", t->overlap, "--description", t->description, NULL);
	if (!t->job) {
		add_args(p, "--type", t->type);
		add_args(p, "--nice", nice);
		if (t->run_as)
			add_args(p, "--run-as", t->run_as);
		if (t->limits[0])
			add_args(p, "--limit", t->limits);
	}
	if (t->fail_fast)
		add_args(p, "--fail-fast", NULL);
	const char *k;
	json_t *v;
	json_object_foreach(t->params, k, v) {
		if (t->job && strcmp(k, "fail_fast") == 0)
			continue;
		char *kv = norc_xasprintf("%s=%s", k, json_string_value(v));
		add_args(p, "--param", kv);
		free(kv);
	}
}

static void plan_job_graph(struct plan *p, const struct want_task *t, json_t *cur)
{
	json_t *nodes = cur ? json_object_get(cur, "nodes") : NULL;
	json_t *edges = cur ? json_object_get(cur, "edges") : NULL;
	const char **gone = norc_xcalloc(json_array_size(nodes) + 1, sizeof(char *));
	size_t ngone = 0, i;
	json_t *n;
	json_array_foreach(nodes, i, n) { /* nodes not wanted, or running another task */
		const char *name = json_string_value(json_object_get(n, "name"));
		const char *task = json_string_value(json_object_get(n, "task"));
		size_t k = 0;
		while (k < t->nnodes && strcmp(t->node_names[k], name) != 0)
			k++;
		if (k < t->nnodes && strcmp(t->node_tasks[k], task) == 0)
			continue;
		gone[ngone++] = name;
		add_action(p, norc_cmd_job, "remove", t->name, k < t->nnodes ? "node (new task)" : "node",
			   "job", "node", t->name, name, "--rm", NULL);
		free(p->v[p->n - 1].detail);
		p->v[p->n - 1].detail = norc_xasprintf("node %s%s", name,
						       k < t->nnodes ? " (it runs another task now)"
								     : "");
	}
	json_t *e;
	json_array_foreach(edges, i, e) { /* deps not wanted (those of removed nodes went too) */
		const char *a = json_string_value(json_object_get(e, "parent"));
		const char *b = json_string_value(json_object_get(e, "child"));
		if (in_list(gone, ngone, a) || in_list(gone, ngone, b))
			continue;
		size_t d = 0;
		while (d < t->ndeps && !(strcmp(t->dep_parent[d], a) == 0 &&
					 strcmp(t->dep_child[d], b) == 0))
			d++;
		if (d == t->ndeps) {
			char *det = norc_xasprintf("dependency %s -> %s", a, b);
			add_action(p, norc_cmd_job, "remove", t->name, det, "job", "dep", t->name, a, b,
				   "--rm", NULL);
			free(det);
		}
	}
	for (size_t k = 0; k < t->nnodes; k++) {
		bool have = false;
		json_array_foreach(nodes, i, n)
			if (strcmp(json_string_value(json_object_get(n, "name")), t->node_names[k]) == 0 &&
			    !in_list(gone, ngone, t->node_names[k]))
				have = true;
		if (have)
			continue;
		char *det = norc_xasprintf("node %s running %s", t->node_names[k], t->node_tasks[k]);
		add_action(p, norc_cmd_job, "add", t->name, det, "job", "node", t->name,
			   t->node_names[k], "--task", t->node_tasks[k], NULL);
		free(det);
	}
	for (size_t d = 0; d < t->ndeps; d++) {
		bool have = false;
		json_array_foreach(edges, i, e)
			if (strcmp(json_string_value(json_object_get(e, "parent")), t->dep_parent[d]) == 0 &&
			    strcmp(json_string_value(json_object_get(e, "child")), t->dep_child[d]) == 0 &&
			    !in_list(gone, ngone, t->dep_parent[d]) && !in_list(gone, ngone, t->dep_child[d]))
				have = true;
		if (have)
			continue;
		char *det = norc_xasprintf("dependency %s -> %s", t->dep_parent[d], t->dep_child[d]);
		add_action(p, norc_cmd_job, "add", t->name, det, "job", "dep", t->name,
			   t->dep_parent[d], t->dep_child[d], NULL);
		free(det);
	}
	free(gone);
}

/* A task or job not in the database (or replaced): add it, its graph and its schedules. */
static bool same_text(const json_t *v, const char *want)
{
	const char *have = json_string_value(v);
	return strcmp(have ? have : "", want ? want : "") == 0;
}

/* The task's alert rule against cur (its rule now, NULL: none): `alert set` or `alert clear`. */
static void plan_alert(struct plan *p, const struct want_task *t, const json_t *cur)
{
	if ((!t->has_alert && !p->prune) || ((!t->has_alert || t->alert_empty) && !cur))
		return;
	if (!t->has_alert || t->alert_empty) {
		add_action(p, norc_cmd_alert, "change", t->name, "alert removed", "alert", "clear",
			   t->name, NULL);
		return;
	}
	const char *on = norc_alert_on_format(t->alert_events);
	if (cur && same_text(json_object_get(cur, "on"), on) &&
	    json_integer_value(json_object_get(cur, "deadline")) == atoll(t->deadline) &&
	    json_integer_value(json_object_get(cur, "no_success")) == atoll(t->no_success) &&
	    same_text(json_object_get(cur, "email"), t->email) &&
	    same_text(json_object_get(cur, "webhook"), t->webhook))
		return;
	add_action(p, norc_cmd_alert, cur ? "change" : "add", t->name, "alert", "alert", "set",
		   t->name, "--on", on, "--deadline", t->deadline, "--no-success", t->no_success,
		   "--email", t->email ? t->email : "", "--webhook", t->webhook ? t->webhook : "",
		   NULL);
}

static void plan_new(struct plan *p, const struct want_task *t)
{
	json_t *none = json_array();
	plan_add(p, t, "add");
	if (t->job)
		plan_job_graph(p, t, NULL);
	plan_schedules(p, t, none);
	plan_alert(p, t, NULL);
	json_decref(none);
}

/* The steps for one task or job of the file. -1 when it cannot be done (printed). */
static int plan_task(struct norc_cli *cli, const struct want *w, const struct want_task *t,
		     struct plan *p)
{
	char err[512];
	int64_t id;
	json_t *cur = NULL, *live = NULL;
	if (norc_model_task_find(cli->db, t->name, &id, err, sizeof(err)) != NORC_OK) {
		plan_new(p, t);
		return 0;
	}
	if (norc_model_task_get(cli->db, id, &cur, err, sizeof(err)) != NORC_OK) {
		fprintf(stderr, "norc: error: apply: %s\n", err);
		return -1;
	}
	const char *type = json_string_value(json_object_get(cur, "type"));
	if (!type || strcmp(type, t->type) != 0) { /* a task cannot change its type: replace it */
		json_t *users = NULL;
		struct norc_arg a[] = {NORC_AI(id)};
		static const struct norc_col c[] = {{"job", NORC_COL_TEXT}};
		norc_model_query(cli->db, "SELECT j.name FROM job_nodes n JOIN tasks j ON j.id = "
				 "n.job_id WHERE n.task_id = ? AND j.deleted = 0", a, 1, c, 1, &users);
		if (json_array_size(users)) {
			fprintf(stderr, "norc: error: apply %s:%d: %s would change from %s to %s, but "
				"it is a node of job %s; give it another name, or remove the node "
				"first\n", w->file, t->line, t->name, type ? type : "?", t->type,
				json_string_value(json_object_get(json_array_get(users, 0), "job")));
			json_decref(users);
			json_decref(cur);
			return -1;
		}
		json_decref(users);
		json_decref(cur);
		add_action(p, norc_cmd_task, "replace", t->name, "its type changed (history stays)",
			   "task", "rm", t->name, "--force", NULL);
		plan_new(p, t);
		return 0;
	}
	const char *ptext = json_string_value(json_object_get(cur, "params"));
	json_t *pj = json_loads(ptext ? ptext : "{}", 0, NULL);
	bool same_params = json_equal(pj, t->params);
	json_decref(pj);
	if (!same_params) { /* `task set` takes the whole set */
		add_action(p, norc_cmd_task, "change", t->name, "parameters", "task", "set", t->name,
			   NULL);
		const char *k;
		json_t *v;
		json_object_foreach(t->params, k, v) {
			char *kv = norc_xasprintf("%s=%s", k, json_string_value(v));
			add_args(p, "--param", kv);
			free(kv);
		}
		if (!json_object_size(t->params))
			add_args(p, "--no-params", NULL);
	}
	plan_settings(p, t, cur);
	json_decref(cur);
	cur = NULL;
	if (t->job) {
		if (norc_jobdef_get(cli->db, t->name, &cur, err, sizeof(err)) != NORC_OK) {
			fprintf(stderr, "norc: error: apply: %s\n", err);
			return -1;
		}
		plan_job_graph(p, t, cur);
		json_decref(cur);
	}
	if (norc_model_schedule_list(cli->db, id, &live) != NORC_OK) {
		fprintf(stderr, "norc: error: apply: %s\n", norc_db_errmsg(cli->db));
		return -1;
	}
	plan_schedules(p, t, live);
	json_decref(live);
	json_t *rule = NULL;
	int rc = norc_alert_rule_get(cli->db, id, &rule);
	if (rc != NORC_OK && rc != NORC_ENOTFOUND) {
		fprintf(stderr, "norc: error: apply: %s\n", norc_db_errmsg(cli->db));
		return -1;
	}
	plan_alert(p, t, rule);
	json_decref(rule);
	return 0;
}

/* Compare the file with the database. -1 on a database error (printed). */
static int make_plan(struct norc_cli *cli, const struct want *w, bool prune, struct plan *p)
{
	char err[512];
	json_t *queues = NULL, *tasks = NULL;
	if (norc_model_queue_list(cli->db, &queues) != NORC_OK ||
	    norc_model_task_list(cli->db, &tasks) != NORC_OK) {
		json_decref(queues);
		return norc_cli_fail("apply: %s", norc_db_errmsg(cli->db)) ? -1 : -1;
	}
	/* references: every queue and node task is in the file or in the database */
	for (size_t i = 0; i < w->ntasks; i++) {
		const struct want_task *t = &w->tasks[i];
		int64_t id;
		for (size_t k = 0; k < t->nscheds; k++)
			if (!in_list(w->queue_names, w->nqueues, t->scheds[k].queue) &&
			    norc_model_queue_find(cli->db, t->scheds[k].queue, &id, err, sizeof(err)) !=
				    NORC_OK) {
				fprintf(stderr, "norc: error: apply %s:%d: %s: no queue %s; add it to "
					"queues = ( ... ) or with `norc queue add`\n", w->file,
					t->scheds[k].line, t->name, t->scheds[k].queue);
				json_decref(queues);
				json_decref(tasks);
				return -1;
			}
		for (size_t k = 0; k < t->nnodes; k++) {
			bool in_file = false;
			for (size_t j = 0; j < w->ntasks; j++)
				in_file |= strcmp(w->tasks[j].name, t->node_tasks[k]) == 0;
			if (!in_file &&
			    norc_model_task_find(cli->db, t->node_tasks[k], &id, err, sizeof(err)) !=
				    NORC_OK) {
				fprintf(stderr, "norc: error: apply %s:%d: job %s, node %s: no task %s; "
					"define it under tasks = ( ... )\n", w->file, t->line, t->name,
					t->node_names[k], t->node_tasks[k]);
				json_decref(queues);
				json_decref(tasks);
				return -1;
			}
		}
	}
	/* queues: added when missing; one that exists with another type or parameters is
	 * refused (there is no `queue set`) */
	for (size_t i = 0; i < w->nqueues; i++) {
		json_t *have = NULL;
		size_t k;
		json_t *q;
		json_array_foreach(queues, k, q)
			if (strcmp(json_string_value(json_object_get(q, "name")), w->queue_names[i]) == 0)
				have = q;
		if (have) {
			const char *type = json_string_value(json_object_get(have, "type"));
			const char *pt = json_string_value(json_object_get(have, "params"));
			json_t *pj = json_loads(pt ? pt : "{}", 0, NULL);
			bool same = type && strcmp(type, w->queue_types[i]) == 0 &&
				    json_equal(pj, w->queue_params[i]);
			json_decref(pj);
			if (!same) {
				fprintf(stderr, "norc: error: apply %s: queue %s exists as a %s with other "
					"parameters or type than the file's; apply does not change a "
					"queue: remove it (`norc queue rm`) or match the file to it\n",
					w->file, w->queue_names[i], type ? type : "?");
				goto fail;
			}
			continue;
		}
		add_action(p, norc_cmd_queue, "add", w->queue_names[i], w->queue_types[i], "queue",
			   "add", w->queue_names[i], "--type", w->queue_types[i], NULL);
		const char *k2;
		json_t *v;
		json_object_foreach(w->queue_params[i], k2, v) {
			char *kv = norc_xasprintf("%s=%s", k2, json_string_value(v));
			add_args(p, "--param", kv);
			free(kv);
		}
	}
	/* plain tasks first (job nodes need them), then jobs, each job after the file's jobs
	 * its nodes run */
	bool *done = norc_xcalloc(w->ntasks + 1, sizeof(bool));
	for (size_t round = 0, left = w->ntasks; left && round <= w->ntasks; round++)
		for (size_t i = 0; i < w->ntasks; i++) {
			const struct want_task *t = &w->tasks[i];
			if (done[i] || (t->job && round == 0))
				continue;
			bool ready = true;
			for (size_t n = 0; t->job && n < t->nnodes; n++)
				for (size_t j = 0; j < w->ntasks; j++)
					if (j != i && !done[j] && strcmp(w->tasks[j].name, t->node_tasks[n]) == 0)
						ready = false;
			if (!ready)
				continue;
			done[i] = true;
			left--;
			if (plan_task(cli, w, t, p) != 0) {
				free(done);
				goto fail;
			}
		}
	for (size_t i = 0; i < w->ntasks; i++)
		if (!done[i]) {
			fprintf(stderr, "norc: error: apply %s:%d: job %s: the file's jobs run each "
				"other in a circle; a job cannot contain itself\n", w->file,
				w->tasks[i].line, w->tasks[i].name);
			free(done);
			goto fail;
		}
	free(done);
	if (prune) {
		size_t k;
		json_t *row;
		/* the file's tasks and jobs, and the tasks its job nodes run, stay */
		size_t nn = 0, cap = w->ntasks + 1;
		for (size_t i = 0; i < w->ntasks; i++)
			cap += w->tasks[i].nnodes;
		const char **names = norc_xcalloc(cap, sizeof(char *));
		for (size_t i = 0; i < w->ntasks; i++) {
			names[nn++] = w->tasks[i].name;
			for (size_t n = 0; n < w->tasks[i].nnodes; n++)
				names[nn++] = w->tasks[i].node_tasks[n];
		}
		/* a task goes only after every job running it went: rounds over the live
		 * (job, node task) pairs */
		static const struct norc_col nc[] = {{"task", NORC_COL_TEXT}, {"job", NORC_COL_TEXT}};
		json_t *pairs = NULL;
		if (norc_model_query(cli->db, "SELECT t.name, j.name FROM job_nodes n JOIN tasks t ON "
				     "t.id = n.task_id JOIN tasks j ON j.id = n.job_id WHERE "
				     "j.deleted = 0 AND t.deleted = 0", NULL, 0, nc, 2, &pairs) != NORC_OK) {
			free(names);
			fprintf(stderr, "norc: error: apply: %s\n", norc_db_errmsg(cli->db));
			goto fail;
		}
		size_t ntask = json_array_size(tasks);
		bool *gone = norc_xcalloc(ntask + 1, sizeof(bool));
		for (bool progress = true; progress;) {
			progress = false;
			json_array_foreach(tasks, k, row) {
				const char *name = json_string_value(json_object_get(row, "name"));
				if (gone[k] || in_list(names, nn, name))
					continue;
				bool held = false; /* a node of a job that is still there */
				size_t x;
				json_t *pr;
				json_array_foreach(pairs, x, pr) {
					if (strcmp(json_string_value(json_object_get(pr, "task")), name) != 0)
						continue;
					const char *job = json_string_value(json_object_get(pr, "job"));
					size_t y;
					json_t *r2;
					json_array_foreach(tasks, y, r2)
						if (!gone[y] && strcmp(json_string_value(json_object_get(
								r2, "name")), job) == 0)
							held = true;
				}
				if (held)
					continue;
				gone[k] = progress = true;
				add_action(p, norc_cmd_task, "remove", name, "not in the file (--prune)",
					   "task", "rm", name, "--force", NULL);
			}
		}
		free(gone);
		json_decref(pairs);
		free(names);
		json_array_foreach(queues, k, row) { /* queue groups and used queues stay */
			const char *name = json_string_value(json_object_get(row, "name"));
			const char *type = json_string_value(json_object_get(row, "type"));
			bool used = false;
			for (size_t i = 0; i < w->ntasks; i++)
				for (size_t x = 0; x < w->tasks[i].nscheds; x++)
					used |= strcmp(w->tasks[i].scheds[x].queue, name) == 0;
			if (!used && type && strcmp(type, "QueueGroup") != 0 &&
			    !in_list(w->queue_names, w->nqueues, name))
				add_action(p, norc_cmd_queue, "remove", name, "not in the file (--prune)",
					   "queue", "rm", name, NULL);
		}
	}
	json_decref(queues);
	json_decref(tasks);
	return 0;
fail:
	json_decref(queues);
	json_decref(tasks);
	return -1;
}

static void print_plan(struct norc_cli *cli, const struct plan *p)
{
	json_t *rows = json_array();
	for (size_t i = 0; i < p->n; i++)
		json_array_append_new(rows, json_pack("{s:s, s:s, s:s}", "action", p->v[i].verb,
						      "object", p->v[i].object, "detail",
						      p->v[i].detail));
	static const char *const cols[] = {"action", "object", "detail", NULL};
	if (p->n || cli->json)
		norc_table_print_rows(cols, rows, stdout, cli->json);
	json_decref(rows);
}

/* Run one planned command in this process: its normal output hidden, what it says on
 * stderr into msg (one line per message, joined with "; "). */
static int run_action(struct norc_cli *cli, const struct action *a, char *msg, size_t msglen)
{
	int argc = 0;
	while (a->argv[argc])
		argc++;
	fflush(stdout);
	fflush(stderr);
	FILE *errs = tmpfile();
	int saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (saved_out >= 0 && devnull >= 0)
		dup2(devnull, STDOUT_FILENO);
	if (saved_err >= 0 && errs)
		dup2(fileno(errs), STDERR_FILENO);
	bool json = cli->json;
	cli->json = false;
	optind = 1;
	int rc = a->cmd(cli, argc, a->argv);
	cli->json = json;
	fflush(stdout);
	fflush(stderr);
	if (saved_out >= 0) {
		dup2(saved_out, STDOUT_FILENO);
		close(saved_out);
	}
	if (saved_err >= 0) {
		dup2(saved_err, STDERR_FILENO);
		close(saved_err);
	}
	if (devnull >= 0)
		close(devnull);
	msg[0] = '\0';
	if (errs) {
		char line[1024];
		rewind(errs);
		while (fgets(line, sizeof(line), errs)) {
			line[strcspn(line, "\n")] = '\0';
			const char *t = strncmp(line, "norc: error: ", 13) == 0 ? line + 13 : line;
			size_t l = strlen(msg);
			if (l && l + 2 < msglen) { /* "; " between messages */
				memcpy(msg + l, "; ", 3);
				l += 2;
			}
			size_t n = strlen(t);
			if (n > msglen - 1 - l)
				n = msglen - 1 - l; /* cut to fit */
			memcpy(msg + l, t, n);
			msg[l + n] = '\0';
		}
		fclose(errs);
	}
	return rc;
}

int norc_cmd_apply(struct norc_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {{"dry-run", no_argument, NULL, 'n'},
					   {"prune", no_argument, NULL, 'p'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	bool dry = false, prune = false;
	int c;
	while ((c = norc_cli_getopt("apply", argc, argv, "nph", lo)) != -1) {
		switch (c) {
		case 'n': dry = true; break;
		case 'p': prune = true; break;
		case 'h':
			printf("usage: norc apply FILE [--dry-run] [--prune] [--json]\n\n"
			       "Makes the database hold the queues, tasks, jobs and schedules FILE "
			       "describes\n(libconfig; docs/operations.md). Prints the plan, then "
			       "carries it out.\nRunning it again changes nothing. A bad file changes "
			       "nothing.\n"
			       "  --dry-run  print the plan only\n"
			       "  --prune    also remove tasks, jobs and queues the file does not have "
			       "(their\n             history stays)\n");
			return NORC_EXIT_OK;
		default: return NORC_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return norc_cli_usage_error("apply", "give one FILE");
	if (norc_cli_db(cli, true) != NORC_OK || norc_cli_plugins(cli) != NORC_OK)
		return NORC_EXIT_FAIL;
	struct want w = {.file = argv[optind]};
	struct plan p = {.prune = prune};
	int rc = read_want(&w, cli->cfg) == 0 && make_plan(cli, &w, prune, &p) == 0
			 ? NORC_EXIT_OK : NORC_EXIT_FAIL;
	if (rc == NORC_EXIT_OK) {
		print_plan(cli, &p);
		if (!p.n && !cli->json)
			printf("apply %s: nothing to change\n", w.file);
	}
	for (size_t i = 0; rc == NORC_EXIT_OK && !dry && i < p.n; i++) {
		char msg[1024];
		if (run_action(cli, &p.v[i], msg, sizeof(msg)) != NORC_EXIT_OK)
			rc = norc_cli_fail("apply %s: stopped at step %zu of %zu (%s %s): %s; the "
					   "steps before it are done; fix the cause and run it again",
					   w.file, i + 1, p.n, p.v[i].verb, p.v[i].object, msg);
		else if (msg[0])
			fprintf(stderr, "norc: %s\n", msg); /* a warning it gave */
	}
	if (rc == NORC_EXIT_OK && !dry && p.n && !cli->json)
		printf("apply %s: %zu change(s) made\n", w.file, p.n);
	free_plan(&p);
	free_want(&w);
	return rc;
}
