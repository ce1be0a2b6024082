/*
 * cmd_crontab.c - `norc import-crontab FILE|- [--queue Q] [--prefix P] [--tz ZONE] [--system]
 * [--apply]`: turn a crontab into tasks and schedules.
 *
 * Reads the whole file first and plans every line: 5-field rules and @shortcuts become cron
 * schedules (Norc's parser takes them as they are, day-of-month and day-of-week ORed as in
 * Vixie cron); CRON_TZ sets the zone of the lines after it; SHELL, PATH and any other
 * variable go into the commands after them, as cron would set them; MAILTO is reported (Norc
 * keeps output in logs and does not mail it); a '%' in a command starts its standard input,
 * as crontab(5) says. @reboot is reported as not supported. The plan is printed; nothing
 * changes without --apply, and nothing at all when any line is bad. Applying is idempotent:
 * a task that already exists with the same command is left alone.
 */
#include "cli.h"
#include "runas.h"
#include "cron.h"
#include "mem.h"
#include "model.h"
#include "table.h"
#include "tz.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct entry {
	int line;
	char *task, *rule, *tz, *command, *note;
	char *user; /* a system crontab's user field: the task's --run-as */
	bool skip;  /* reported only (@reboot) */
	bool exists; /* the same task is already there */
	bool conflict; /* a task of that name is there with another command */
};

struct plan {
	struct entry *v;
	size_t n;
	char **errors; /* "line N: ..." */
	size_t nerr;
	char *vars;    /* "NAME='value'; export NAME; " for the lines to come */
	char *shell;   /* SHELL, NULL: /bin/sh */
	char *cron_tz; /* CRON_TZ, NULL: the default zone */
	char *mailto;
};

static void plan_error(struct plan *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void plan_error(struct plan *p, int line, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->errors = norc_xrealloc(p->errors, (p->nerr + 1) * sizeof(char *));
	p->errors[p->nerr++] = norc_xasprintf("line %d: %s", line, msg);
}

/* s in single quotes for sh. Caller frees. */
static char *sh_quote(const char *s)
{
	size_t n = 3;
	for (const char *c = s; *c; c++)
		n += *c == '\'' ? 4 : 1;
	char *out = norc_xmalloc(n), *o = out;
	*o++ = '\'';
	for (const char *c = s; *c; c++) {
		if (*c == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *c;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* NAME = VALUE (cron's rules: spaces around '=', optional matching quotes). true when the
 * line is one; *name and *value point into line. */
static bool env_line(char *line, char **name, char **value)
{
	char *s = line;
	if (!isalpha((unsigned char)*s) && *s != '_')
		return false;
	while (isalnum((unsigned char)*s) || *s == '_')
		s++;
	char *end = s;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s != '=')
		return false;
	*end = '\0';
	*name = line;
	char *v = trim(s + 1);
	size_t n = strlen(v);
	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		v[n - 1] = '\0';
		v++;
	}
	*value = v;
	return true;
}

static void set_var(struct plan *p, int line, const char *name, const char *value)
{
	if (strcmp(name, "CRON_TZ") == 0) {
		struct norc_tz *tz;
		char err[300];
		if (norc_tz_load(value, &tz, err, sizeof(err)) != NORC_OK) {
			plan_error(p, line, "CRON_TZ=%s: %s", value, err);
			return;
		}
		norc_tz_free(tz);
		free(p->cron_tz);
		p->cron_tz = norc_xstrdup(value);
		return;
	}
	if (strcmp(name, "MAILTO") == 0) {
		free(p->mailto);
		p->mailto = norc_xstrdup(value);
		return;
	}
	if (strcmp(name, "SHELL") == 0) {
		free(p->shell);
		p->shell = strcmp(value, "/bin/sh") == 0 ? NULL : norc_xstrdup(value);
		return;
	}
	char *q = sh_quote(value);
	char *vars = norc_xasprintf("%s%s=%s; export %s; ", p->vars ? p->vars : "", name, q, name);
	free(q);
	free(p->vars);
	p->vars = vars;
}

/* The command part of a crontab line, as sh will run it: variables, SHELL, and the text after
 * an unescaped '%' as standard input (its other '%' are newlines). Caller frees. */
static char *build_command(const struct plan *p, const char *raw)
{
	size_t n = strlen(raw);
	char *cmd = norc_xmalloc(n + 1), *in = NULL;
	size_t c = 0;
	for (size_t i = 0; i < n; i++) {
		if (raw[i] == '\\' && raw[i + 1] == '%') {
			cmd[c++] = '%';
			i++;
		} else if (raw[i] == '%' && !in) {
			in = norc_xstrdup(raw + i + 1);
			break;
		} else {
			cmd[c++] = raw[i];
		}
	}
	cmd[c] = '\0';
	char *body;
	if (p->shell) { /* the command line goes to that shell, as cron would hand it */
		char *q = sh_quote(cmd), *sh = sh_quote(p->shell);
		body = norc_xasprintf("%s -c %s", sh, q);
		free(q);
		free(sh);
	} else {
		body = norc_xasprintf("%s", cmd);
	}
	free(cmd);
	if (in) { /* crontab(5): the rest is stdin, each further '%' a newline */
		char *lines = norc_xstrdup(""), *piece = in;
		for (bool last = false; !last;) {
			char *t = piece, *o = piece;
			for (; *t && *t != '%'; t++) { /* "\%" is a '%' of the text */
				if (t[0] == '\\' && t[1] == '%')
					t++;
				*o++ = *t;
			}
			last = !*t;
			char *next = last ? t : t + 1;
			*o = '\0';
			char *q = sh_quote(piece);
			char *l = norc_xasprintf("%s %s", lines, q);
			free(q);
			free(lines);
			lines = l;
			piece = next;
		}
		char *piped = norc_xasprintf("printf '%%s\\n'%s | { %s; }", lines, body);
		free(lines);
		free(in);
		free(body);
		body = piped;
	}
	char *out = norc_xasprintf("%s%s", p->vars ? p->vars : "", body);
	free(body);
	return out;
}

/* A task name: PREFIX-LINE-WORD, WORD from the command's program (letters, digits, _ . -). */
static char *task_name(const char *prefix, int line, const char *raw)
{
	const char *s = raw;
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strcspn(s, " \t;|&<>%");
	const char *slash = NULL;
	for (const char *c = s; c < s + n; c++)
		if (*c == '/')
			slash = c;
	if (slash)
		n -= (size_t)(slash + 1 - s), s = slash + 1;
	char word[41];
	size_t w = 0;
	for (size_t i = 0; i < n && w < sizeof(word) - 1; i++)
		if (isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-')
			word[w++] = s[i];
	word[w] = '\0';
	return w ? norc_xasprintf("%s-%d-%s", prefix, line, word)
		 : norc_xasprintf("%s-%d", prefix, line);
}

static void plan_line(struct plan *p, const char *prefix, const char *deftz, bool system,
		      int lineno, char *line)
{
	char *s = trim(line);
	if (!*s || *s == '#')
		return;
	char *name, *value;
	if (env_line(s, &name, &value)) {
		set_var(p, lineno, name, value);
		return;
	}
	char *rule, *rest;
	if (*s == '@') {
		size_t n = strcspn(s, " \t");
		if (!s[n]) {
			plan_error(p, lineno, "'%s' has no command after it", s);
			return;
		}
		s[n] = '\0';
		rule = norc_xstrdup(s);
		rest = trim(s + n + 1);
	} else {
		char *f[5];
		char *c = s;
		for (int i = 0; i < 5; i++) {
			f[i] = c;
			c += strcspn(c, " \t");
			if (!*c) {
				plan_error(p, lineno, "a rule needs 5 fields and a command (MIN HOUR DOM "
					   "MON DOW COMMAND)");
				return;
			}
			*c++ = '\0';
			while (*c == ' ' || *c == '\t')
				c++;
		}
		rule = norc_xasprintf("%s %s %s %s %s", f[0], f[1], f[2], f[3], f[4]);
		rest = c;
	}
	char *user = NULL;
	if (system) { /* /etc/crontab and cron.d: a user field before the command */
		user = rest;
		rest += strcspn(rest, " \t");
		if (!*rest) {
			plan_error(p, lineno, "a system crontab line needs a user and a command");
			free(rule);
			return;
		}
		*rest++ = '\0';
		rest = trim(rest);
	}
	struct entry e = {.line = lineno, .rule = rule};
	if (strcmp(rule, "@reboot") == 0) {
		e.skip = true;
		e.note = norc_xstrdup("not imported: Norc has no boot event; start it from a "
				      "systemd unit or your init system");
	} else {
		struct norc_cron cron;
		char err[300];
		const char *tz = p->cron_tz ? p->cron_tz : deftz;
		if (norc_cron_parse(rule, NULL, NULL, &cron, err, sizeof(err)) != NORC_OK) {
			plan_error(p, lineno, "%s", err);
			free(rule);
			return;
		}
		e.tz = norc_xstrdup(tz);
		char note[300] = "";
		if (user && norc_runas_check(user, err, sizeof(err)) != NORC_OK) {
			plan_error(p, lineno, "user field: %s", err);
			free(rule);
			free(e.tz);
			return;
		}
		e.user = user ? norc_xstrdup(user) : NULL;
		if (p->mailto && *p->mailto)
			snprintf(note + strlen(note), sizeof(note) - strlen(note),
				 "%sMAILTO=%s: output is kept in the instance's log, not mailed", *note
				 ? "; " : "", p->mailto);
		e.note = note[0] ? norc_xstrdup(note) : NULL;
	}
	e.task = task_name(prefix, lineno, rest);
	e.command = build_command(p, rest);
	p->v = norc_xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
	p->v[p->n++] = e;
}

static void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].task);
		free(p->v[i].rule);
		free(p->v[i].tz);
		free(p->v[i].command);
		free(p->v[i].note);
		free(p->v[i].user);
	}
	free(p->v);
	for (size_t i = 0; i < p->nerr; i++)
		free(p->errors[i]);
	free(p->errors);
	free(p->vars);
	free(p->shell);
	free(p->cron_tz);
	free(p->mailto);
}

/* This host's zone, as cron uses it: $TZ, else /etc/timezone, else /etc/localtime's link
 * into zoneinfo, else UTC. */
static void local_zone(char *buf, size_t len)
{
	const char *tz = getenv("TZ");
	if (tz && *tz) {
		snprintf(buf, len, "%s", tz[0] == ':' ? tz + 1 : tz);
		return;
	}
	FILE *f = fopen("/etc/timezone", "re");
	if (f) {
		char line[128];
		bool got = fgets(line, sizeof(line), f) != NULL;
		fclose(f);
		char *t = got ? trim(line) : NULL;
		if (t && *t) {
			snprintf(buf, len, "%s", t);
			return;
		}
	}
	char link[PATH_MAX];
	ssize_t n = readlink("/etc/localtime", link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		const char *z = strstr(link, "zoneinfo/");
		if (z) {
			snprintf(buf, len, "%s", z + 9);
			return;
		}
	}
	snprintf(buf, len, "UTC");
}

static int read_all(const char *path, char **out)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	if (!f)
		return norc_cli_fail("import-crontab: cannot read %s: %s", path, strerror(errno));
	size_t cap = 4096, n = 0;
	char *buf = norc_xmalloc(cap);
	size_t r;
	while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (cap - n < 2)
			buf = norc_xrealloc(buf, cap *= 2);
	}
	buf[n] = '\0';
	if (f != stdin)
		fclose(f);
	*out = buf;
	return NORC_EXIT_OK;
}

static void print_plan(const struct norc_cli *cli, const struct plan *p, const char *queue)
{
	json_t *rows = json_array();
	for (size_t i = 0; i < p->n; i++) {
		const struct entry *e = &p->v[i];
		json_t *r = json_object();
		json_object_set_new(r, "line", json_integer(e->line));
		json_object_set_new(r, "task", json_string(e->task));
		json_object_set_new(r, "schedule", json_string(e->rule));
		json_object_set_new(r, "tz", e->tz ? json_string(e->tz) : json_null());
		json_object_set_new(r, "queue", e->skip ? json_null() : json_string(queue));
		json_object_set_new(r, "action", json_string(e->skip ? "skip" : e->exists ? "exists"
							     : e->conflict ? "conflict" : "add"));
		json_object_set_new(r, "command", json_string(e->command));
		json_object_set_new(r, "run_as", e->user ? json_string(e->user) : json_null());
		json_object_set_new(r, "note", e->note ? json_string(e->note) : json_null());
		json_array_append_new(rows, r);
	}
	static const char *const cols[] = {"line", "action", "task", "schedule", "tz", "command",
					   "run_as", "note", NULL};
	norc_table_print_rows(cols, rows, stdout, cli->json);
	json_decref(rows);
}

/* Run `norc ARGS...` in this process (the same checks and messages as typed). */
static int sub(struct norc_cli *cli, int (*cmd)(struct norc_cli *, int, char **), char **argv)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	optind = 1;
	return cmd(cli, argc, argv);
}

static int apply(struct norc_cli *cli, struct plan *p, const char *queue, size_t *added)
{
	*added = 0;
	char err[512];
	int64_t qid;
	if (norc_model_queue_find(cli->db, queue, &qid, err, sizeof(err)) != NORC_OK) {
		char *av[] = {"queue", "add", (char *)queue, NULL};
		if (sub(cli, norc_cmd_queue, av) != NORC_EXIT_OK)
			return NORC_EXIT_FAIL;
	}
	for (size_t i = 0; i < p->n; i++) {
		struct entry *e = &p->v[i];
		if (e->skip || e->exists)
			continue;
		char *ta[] = {"task", "add", e->task, "--command", e->command, "--description",
			      "imported from a crontab", e->user ? "--run-as" : NULL, e->user, NULL};
		char *sa[] = {"schedule", "add", e->task, "--queue", (char *)queue, "--cron",
			      e->rule, "--tz", e->tz, NULL};
		if (sub(cli, norc_cmd_task, ta) != NORC_EXIT_OK ||
		    sub(cli, norc_cmd_schedule, sa) != NORC_EXIT_OK)
			return norc_cli_fail("import-crontab: stopped at line %d after %zu task(s) "
					     "were added; fix the cause and run it again (what "
					     "was added is kept and skipped then)", e->line, *added);
		(*added)++;
	}
	return NORC_EXIT_OK;
}

/* Mark the entries whose task exists with the same command; a task of that name with another
 * command is a conflict. Returns the number of conflicts (printed). */
static int check_existing(struct norc_cli *cli, struct plan *p)
{
	int conflicts = 0;
	for (size_t i = 0; i < p->n; i++) {
		struct entry *e = &p->v[i];
		int64_t id;
		char err[512];
		if (e->skip || norc_model_task_find(cli->db, e->task, &id, err, sizeof(err)) != NORC_OK)
			continue;
		json_t *t;
		if (norc_model_task_get(cli->db, id, &t, err, sizeof(err)) != NORC_OK)
			continue;
		const char *params = json_string_value(json_object_get(t, "params"));
		json_t *pj = params ? json_loads(params, 0, NULL) : NULL;
		const char *cmd = json_string_value(json_object_get(pj, "command"));
		if (cmd && strcmp(cmd, e->command) == 0) {
			e->exists = true;
		} else {
			e->conflict = true;
			conflicts++;
		}
		json_decref(pj);
		json_decref(t);
	}
	return conflicts;
}

static void help(void)
{
	printf("usage: norc import-crontab FILE|- [--queue QUEUE] [--prefix P] [--tz ZONE] "
	       "[--system] [--apply] [--json]\n\n"
	       "Turns a crontab into tasks (PREFIX-LINE-PROGRAM) and cron schedules. Prints the "
	       "plan;\nchanges nothing without --apply, and nothing at all when a line is bad.\n"
	       "  --queue QUEUE  queue of the schedules (default Cron; created as a DBQueue "
	       "if missing)\n"
	       "  --prefix P     task name prefix (default: the file's name, or crontab)\n"
	       "  --tz ZONE      zone of lines before any CRON_TZ (default: this host's zone, "
	       "as cron)\n"
	       "  --system       /etc/crontab format: a user field before each command\n"
	       "  --apply        add the tasks and schedules (a task already there with the "
	       "same\n                 command is left alone)\n"
	       "CRON_TZ, SHELL, PATH and other variables apply to the lines after them; MAILTO is\n"
	       "reported (output goes to logs); '%%' starts a command's stdin; @reboot is not "
	       "imported.\n");
}

int norc_cmd_import_crontab(struct norc_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {{"queue", required_argument, NULL, 'q'},
					   {"prefix", required_argument, NULL, 'p'},
					   {"tz", required_argument, NULL, 'z'},
					   {"system", no_argument, NULL, 's'},
					   {"apply", no_argument, NULL, 'a'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	const char *queue = "Cron", *prefix = NULL, *tzopt = NULL;
	bool system = false, do_apply = false;
	int c;
	while ((c = norc_cli_getopt("import-crontab", argc, argv, "q:p:z:sah", lo)) != -1) {
		switch (c) {
		case 'q': queue = optarg; break;
		case 'p': prefix = optarg; break;
		case 'z': tzopt = optarg; break;
		case 's': system = true; break;
		case 'a': do_apply = true; break;
		case 'h': help(); return NORC_EXIT_OK;
		default: return NORC_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return norc_cli_usage_error("import-crontab", "give one crontab FILE, or - for "
					    "standard input");
	const char *path = argv[optind];
	char pfx[64];
	if (!prefix) { /* the file's name, cleaned up to a task name */
		const char *b = strcmp(path, "-") == 0 ? "crontab" : strrchr(path, '/');
		b = b ? (*b == '/' ? b + 1 : b) : path;
		size_t w = 0;
		for (const char *s = b; *s && *s != '.' && w < sizeof(pfx) - 1; s++)
			if (isalnum((unsigned char)*s) || *s == '_' || *s == '-')
				pfx[w++] = *s;
		pfx[w] = '\0';
		prefix = w ? pfx : "crontab";
	}
	char deftz[128];
	if (tzopt)
		snprintf(deftz, sizeof(deftz), "%s", tzopt);
	else
		local_zone(deftz, sizeof(deftz));
	struct norc_tz *tz;
	char err[300];
	if (norc_tz_load(deftz, &tz, err, sizeof(err)) != NORC_OK)
		return tzopt ? norc_cli_usage_error("import-crontab", "--tz %s: %s", deftz, err)
			     : norc_cli_fail("import-crontab: this host's zone '%s' is not known "
					     "(%s); pass --tz ZONE", deftz, err);
	norc_tz_free(tz);
	char *text = NULL;
	int rc = read_all(path, &text);
	if (rc != NORC_EXIT_OK)
		return rc;
	struct plan p = {0};
	int lineno = 0;
	for (char *line = text, *nl; line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		lineno++;
		plan_line(&p, prefix, deftz, system, lineno, line);
	}
	free(text);
	if (p.nerr) {
		for (size_t i = 0; i < p.nerr; i++)
			fprintf(stderr, "norc: error: import-crontab %s: %s\n", path, p.errors[i]);
		fprintf(stderr, "norc: error: import-crontab: %zu bad line(s); nothing was "
			"imported\n", p.nerr);
		plan_free(&p);
		return NORC_EXIT_FAIL;
	}
	if (norc_cli_db(cli, true) != NORC_OK) {
		plan_free(&p);
		return NORC_EXIT_FAIL;
	}
	int conflicts = check_existing(cli, &p);
	print_plan(cli, &p, queue);
	size_t todo = 0, skipped = 0, present = 0;
	for (size_t i = 0; i < p.n; i++)
		p.v[i].skip ? skipped++ : p.v[i].exists ? present++ : todo++;
	rc = NORC_EXIT_OK;
	if (conflicts) {
		const struct entry *first = NULL;
		for (size_t i = 0; i < p.n && !first; i++)
			first = p.v[i].conflict ? &p.v[i] : NULL;
		rc = norc_cli_fail("import-crontab: task %s (line %d)%s already exists with another "
				   "command; nothing was imported: remove it or pick another --prefix",
				   first->task, first->line, conflicts > 1 ? " and others marked "
				   "'conflict' above" : "");
	} else if (!do_apply) {
		if (!cli->json)
			printf("\n%zu task(s) with schedules to add, %zu already there, %zu not "
			       "imported; run again with --apply to add them\n", todo, present,
			       skipped);
	} else {
		size_t added;
		rc = apply(cli, &p, queue, &added);
		if (rc == NORC_EXIT_OK && !cli->json)
			printf("\nimported %zu task(s) with schedules onto queue %s (%zu already "
			       "there, %zu not imported)\n", added, queue, present, skipped);
	}
	plan_free(&p);
	return rc;
}
