/*
 * runas.c - see runas.h. Task users and resource limits.
 */
#include "runas.h"
#include "clock.h"
#include "mem.h"

#include <norc/plugin.h>

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
	const char *name;
	int resource;
	bool size; /* a byte count (K, M, G suffixes); else cpu: a duration; else a count */
	bool duration;
} kinds[] = {
	{"cpu", RLIMIT_CPU, false, true},    {"mem", RLIMIT_AS, true, false},
	{"files", RLIMIT_NOFILE, false, false}, {"procs", RLIMIT_NPROC, false, false},
	{"fsize", RLIMIT_FSIZE, true, false}, {"core", RLIMIT_CORE, true, false},
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

/* "512M" -> bytes (K, M, G, T: powers of 1024); false on junk. */
static bool parse_size(const char *s, unsigned long long *out)
{
	char *end;
	while (*s == ' ')
		s++;
	if (!isdigit((unsigned char)*s)) /* strtoull would take "-1" as a huge number */
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || errno)
		return false;
	unsigned shift = 0;
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	default: return false;
	}
	if (*end && end[1] && !(toupper((unsigned char)end[1]) == 'B' && !end[2]))
		return false;
	if (shift && v > (ULLONG_MAX >> shift))
		return false;
	*out = v << shift;
	return true;
}

int norc_runas_limits_parse(const char *text, char *norm, size_t len, char *err, size_t errlen)
{
	char *copy = norc_xstrdup(text ? text : ""), *save = NULL;
	size_t used = 0;
	int rc = NORC_OK;
	bool seen[NKINDS] = {false};
	norm[0] = '\0';
	for (char *item = strtok_r(copy, ",", &save); item && rc == NORC_OK;
	     item = strtok_r(NULL, ",", &save)) {
		while (*item == ' ')
			item++;
		char *eq = strchr(item, '=');
		size_t k = 0;
		if (eq) {
			*eq = '\0';
			while (k < NKINDS && strcmp(item, kinds[k].name) != 0)
				k++;
		}
		unsigned long long v = 0;
		int64_t secs;
		bool ok = eq && k < NKINDS && !seen[k];
		if (ok && kinds[k].duration)
			ok = norc_clock_parse_duration(eq + 1, &secs) == NORC_OK && secs > 0 &&
			     (v = (unsigned long long)secs, true);
		else if (ok && kinds[k].size)
			ok = parse_size(eq + 1, &v);
		else if (ok)
			ok = parse_size(eq + 1, &v) && v < 1ULL << 31 && !strpbrk(eq + 1, "KkMmGgTt");
		if (!ok) {
			rc = norc_err_set(err, errlen, NORC_EINVAL,
					  "limit '%s%s%s': give KIND=VALUE items separated by commas: "
					  "cpu=SECONDS (or 90s, 5m), mem=BYTES (or 512M, 2G), files=N, "
					  "procs=N, fsize=BYTES, core=BYTES, each kind once", item,
					  eq ? "=" : "", eq ? eq + 1 : "");
			break;
		}
		seen[k] = true;
		int n = snprintf(norm + used, len - used, "%s%s=%llu", used ? "," : "",
				 kinds[k].name, v);
		if (n < 0 || (size_t)n >= len - used)
			rc = norc_err_set(err, errlen, NORC_EINVAL, "limits: too long");
		else
			used += (size_t)n;
	}
	free(copy);
	return rc;
}

/* A user or group name: [A-Za-z0-9_.-], 1..32 characters, not starting with '-'. */
static bool good_name(const char *s, size_t n)
{
	if (!n || n > 32 || *s == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

int norc_runas_check(const char *run_as, char *err, size_t errlen)
{
	const char *colon = strchr(run_as, ':');
	size_t un = colon ? (size_t)(colon - run_as) : strlen(run_as);
	if (!good_name(run_as, un) || (colon && !good_name(colon + 1, strlen(colon + 1))))
		return norc_err_set(err, errlen, NORC_EINVAL, "run-as '%s': give USER or "
				    "USER:GROUP (names of letters, digits, '_', '.', '-')", run_as);
	return NORC_OK;
}

/* The limits text (normalized) into r->lim. */
static int load_limits(const char *limits, struct norc_runas *r, char *err, size_t errlen)
{
	char *copy = norc_xstrdup(limits), *save = NULL;
	int rc = NORC_OK;
	for (char *item = strtok_r(copy, ",", &save); item && rc == NORC_OK;
	     item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		size_t k = 0;
		if (eq) {
			*eq = '\0';
			while (k < NKINDS && strcmp(item, kinds[k].name) != 0)
				k++;
		}
		if (!eq || k == NKINDS || r->nlim == NORC_RUNAS_MAX_LIMITS) {
			rc = norc_err_set(err, errlen, NORC_EINVAL, "the task's limits '%s' cannot be "
					  "read; set them again with `norc task set --limit`", limits);
			break;
		}
		r->lim[r->nlim].resource = kinds[k].resource;
		r->lim[r->nlim++].value = (rlim_t)strtoull(eq + 1, NULL, 10);
	}
	free(copy);
	return rc;
}

int norc_runas_resolve(const struct norc_config *cfg, const char *run_as, const char *limits,
		       struct norc_runas *out, char *err, size_t errlen)
{
	*out = (struct norc_runas){0};
	if (limits && *limits && load_limits(limits, out, err, errlen) != NORC_OK)
		return NORC_EINVAL;
	bool root = geteuid() == 0;
	const char *want = run_as && *run_as ? run_as : root ? cfg->tasks.user : NULL;
	char user[64] = "", group[64] = "";
	if (want) {
		const char *colon = strchr(want, ':');
		snprintf(user, sizeof(user), "%.*s", colon ? (int)(colon - want) : (int)strlen(want),
			 want);
		if (colon)
			snprintf(group, sizeof(group), "%s", colon + 1);
	}
	char buf[4096];
	struct passwd pw, *pwp = NULL;
	if (user[0]) {
		int e = getpwnam_r(user, &pw, buf, sizeof(buf), &pwp);
		if (!pwp)
			return norc_err_set(err, errlen, NORC_ENOTFOUND, "run-as user '%s' %s on this "
					    "host%s%s", user, e ? "cannot be looked up" : "does not exist",
					    e ? ": " : "", e ? strerror(e) : "");
	}
	if (!root) { /* no switching: only ourselves */
		struct group gr, *grp = NULL;
		char gbuf[4096];
		if (pwp && pwp->pw_uid != geteuid())
			return norc_err_set(err, errlen, NORC_ECONFIG, "cannot run as user '%s': "
					    "norc_executor runs as uid %d, not root; run it as root "
					    "(with tasks.user) or as that user", user, (int)geteuid());
		if (group[0] && (getgrnam_r(group, &gr, gbuf, sizeof(gbuf), &grp), !grp ||
				 grp->gr_gid != getegid()))
			return norc_err_set(err, errlen, NORC_ECONFIG, "cannot run in group '%s': "
					    "norc_executor runs as gid %d, not root", group,
					    (int)getegid());
		return NORC_OK;
	}
	uid_t uid = pwp ? pwp->pw_uid : 0;
	gid_t gid = pwp ? pwp->pw_gid : 0;
	if (group[0]) {
		struct group gr, *grp = NULL;
		char gbuf[4096];
		int e = getgrnam_r(group, &gr, gbuf, sizeof(gbuf), &grp);
		if (!grp)
			return norc_err_set(err, errlen, NORC_ENOTFOUND, "run-as group '%s' %s on "
					    "this host", group, e ? "cannot be looked up"
								  : "does not exist");
		gid = grp->gr_gid;
	}
	if ((uid == 0 || gid == 0) && !cfg->tasks.allow_root)
		return norc_err_set(err, errlen, NORC_ECONFIG, "refused to run as %s: norc_executor "
				    "runs as root and the task would too; give the task a user (`norc "
				    "task set TASK --run-as USER`), set tasks.user in %s, or allow "
				    "it with tasks.allow_root = true", uid == 0 ? "root" : "group root",
				    cfg->file);
	if (!pwp)
		return NORC_OK; /* root, allowed: nothing to switch */
	out->switch_user = true;
	out->uid = uid;
	out->gid = gid;
	snprintf(out->user, sizeof(out->user), "%s", pwp->pw_name);
	struct stat sb;
	snprintf(out->home, sizeof(out->home), "%s",
		 pwp->pw_dir && stat(pwp->pw_dir, &sb) == 0 && S_ISDIR(sb.st_mode) ? pwp->pw_dir
										    : "/");
	int n = NORC_RUNAS_MAX_GROUPS;
	if (getgrouplist(pwp->pw_name, gid, out->groups, &n) < 0)
		return norc_err_set(err, errlen, NORC_ECONFIG, "run-as user '%s' is in %d groups, "
				    "more than the %d Norc passes on; give it fewer", user, n,
				    NORC_RUNAS_MAX_GROUPS);
	out->ngroups = n;
	return NORC_OK;
}

int norc_runas_apply(const struct norc_runas *r, char *step)
{
	*step = 'l';
	for (int i = 0; i < r->nlim; i++) {
		struct rlimit rl = {r->lim[i].value, r->lim[i].value};
		if (setrlimit(r->lim[i].resource, &rl) != 0)
			return -1;
	}
	*step = 'u';
	if (r->switch_user && (setgroups((size_t)r->ngroups, r->groups) != 0 ||
			       setgid(r->gid) != 0 || setuid(r->uid) != 0))
		return -1;
	return NORC_OK;
}
