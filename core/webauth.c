/*
 * webauth.c - see webauth.h.
 */
#include "webauth.h"
#include "log.h"
#include "mem.h"
#include "params.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SESSIONS 4096
#define MAX_USER_SESSIONS 32 /* per user: one account cannot push everybody else out */
#define MAX_LIMITS 4096
#define LIMIT_WINDOW_US (15 * 60 * INT64_C(1000000)) /* failures older than this are forgotten */
#define FIRST_WAIT_S 30
#define MAX_WAIT_S (15 * 60)

struct user {
	char *name;
	int role;
	char *hash;
};

struct token {
	char *name;
	int role;
	unsigned char sha[32];
};

struct session {
	unsigned char key[32]; /* SHA-256 of the cookie */
	unsigned char pw[32];  /* SHA-256 of the user's password hash: a new password ends it */
	char csrf[NORC_WEBAUTH_ID_LEN];
	char *user;
	int role;
	int64_t created, last; /* us */
};

/* Failed logins of one address ("a:ADDR") or user name ("u:NAME"). */
struct limit {
	char key[96];
	int failures;  /* since the last wait began */
	int64_t last;  /* last failure (us); 15 quiet minutes forget the entry */
	int64_t until; /* no attempt is checked before this */
	int wait_s;    /* the last wait; the next one doubles it */
};

struct norc_webauth {
	struct user *users;
	size_t n_users;
	struct token *tokens;
	size_t n_tokens;
	struct session *sessions;
	size_t n_sessions;
	struct limit *limits;
	size_t n_limits;
	int anonymous; /* role without login */
	int64_t idle_us, max_us;
	struct crypt_data *cd; /* crypt_r's work area (large: on the heap, once) */
	char dummy_hash[128];  /* checked for unknown names, so timing is the same */
};

static const char *const role_names[] = {"none", "viewer", "operator", "admin"};

int norc_webauth_role_parse(const char *s)
{
	for (int i = 1; s && i < 4; i++)
		if (strcmp(s, role_names[i]) == 0)
			return i;
	return -1;
}

const char *norc_webauth_role_name(int role)
{
	return role >= 0 && role < 4 ? role_names[role] : "?";
}

static void sha256(const void *p, size_t n, unsigned char out[32])
{
	unsigned int len = 32;
	EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

static void to_hex(const unsigned char *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int from_hex(const char *s, unsigned char *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < 2 * n; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (v < 0)
			return -1;
		out[i / 2] = (unsigned char)(i % 2 ? out[i / 2] | v : v << 4);
	}
	return 0;
}

static int random_hex(char out[NORC_WEBAUTH_ID_LEN])
{
	unsigned char r[32];
	size_t got = 0;
	while (got < sizeof(r)) {
		ssize_t n = getrandom(r + got, sizeof(r) - got, 0);
		if (n < 0 && errno != EINTR)
			return NORC_ERR;
		if (n > 0)
			got += (size_t)n;
	}
	to_hex(r, sizeof(r), out);
	return NORC_OK;
}

/* yescrypt ($y$), gost-yescrypt ($gy$), SHA-512 ($6$) and SHA-256 ($5$) are accepted; DES,
 * MD5 and anything else (plain text) are not. */
static bool strong_hash(const char *h)
{
	return strncmp(h, "$y$", 3) == 0 || strncmp(h, "$6$", 3) == 0 ||
	       strncmp(h, "$5$", 3) == 0 || strncmp(h, "$gy$", 4) == 0;
}

static void free_users(struct user *u, size_t n, struct token *t, size_t nt)
{
	for (size_t i = 0; i < n; i++) {
		free(u[i].name);
		free(u[i].hash);
	}
	free(u);
	for (size_t i = 0; i < nt; i++)
		free(t[i].name);
	free(t);
}

static bool valid_name(const char *n)
{
	if (!n || !*n || strlen(n) > 64)
		return false;
	for (const char *p = n; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-' || *p == '@'))
			return false;
	return true;
}

/* Append one user after checking it; where says where it came from. */
static int add_user(struct user **users, size_t *n, const char *name, const char *role,
		    const char *hash, const char *where, char *err, size_t errlen)
{
	if (!valid_name(name))
		return norc_err_set(err, errlen, NORC_ECONFIG, "%s: user name '%s' is not valid; "
				    "use 1-64 letters, digits and _ . - @", where, name ? name : "");
	int r = norc_webauth_role_parse(role);
	if (r < 0)
		return norc_err_set(err, errlen, NORC_ECONFIG, "%s: user %s: role '%s' is unknown; "
				    "use viewer, operator or admin", where, name, role ? role : "");
	if (!hash || !strong_hash(hash))
		return norc_err_set(err, errlen, NORC_ECONFIG, "%s: user %s: password_hash must be "
				    "a crypt(3) yescrypt ($y$) or SHA-512 ($6$) hash; make one with "
				    "`norc web hash-password`", where, name);
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*users)[i].name, name) == 0)
			return norc_err_set(err, errlen, NORC_ECONFIG, "%s: user %s is defined "
					    "twice; keep one", where, name);
	*users = norc_xrealloc(*users, (*n + 1) * sizeof(**users));
	(*users)[(*n)++] = (struct user){norc_xstrdup(name), r, norc_xstrdup(hash)};
	return NORC_OK;
}

/* The users file: "name:role:hash" per line; # comments and blank lines. */
static int read_users_file(const char *path, struct user **users, size_t *n, char *err,
			   size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return NORC_OK; /* no users added yet */
		return norc_err_set(err, errlen, NORC_ECONFIG, "web.users_file %s: cannot read it "
				    "(%s)", path, strerror(errno));
	}
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, rc = NORC_OK;
	while (rc == NORC_OK && getline(&line, &cap, f) > 0) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		char where[300];
		snprintf(where, sizeof(where), "web.users_file %s:%d", path, lineno);
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2) {
			rc = norc_err_set(err, errlen, NORC_ECONFIG, "%s: expected name:role:hash; "
					  "manage the file with `norc web user add`", where);
			break;
		}
		*c1 = *c2 = '\0';
		rc = add_user(users, n, line, c1 + 1, c2 + 1, where, err, errlen);
	}
	free(line);
	fclose(f);
	return rc;
}

static int load(const struct norc_config *cfg, struct user **users, size_t *n, struct token **tokens,
		size_t *nt, char *err, size_t errlen)
{
	*users = NULL;
	*tokens = NULL;
	*n = *nt = 0;
	int rc = NORC_OK;
	char where[300];
	snprintf(where, sizeof(where), "config %s: web.users", cfg->file);
	for (size_t i = 0; rc == NORC_OK && i < cfg->web.n_users; i++) {
		const struct norc_params *p = cfg->web.users[i];
		rc = add_user(users, n, norc_params_get(p, "name"), norc_params_get(p, "role"),
			      norc_params_get(p, "password_hash"), where, err, errlen);
	}
	if (rc == NORC_OK && cfg->web.users_file)
		rc = read_users_file(cfg->web.users_file, users, n, err, errlen);
	snprintf(where, sizeof(where), "config %s: web.tokens", cfg->file);
	for (size_t i = 0; rc == NORC_OK && i < cfg->web.n_tokens; i++) {
		const struct norc_params *p = cfg->web.tokens[i];
		const char *name = norc_params_get(p, "name"), *sha = norc_params_get(p, "sha256");
		int role = norc_webauth_role_parse(norc_params_get(p, "role"));
		struct token t = {0};
		if (!valid_name(name))
			rc = norc_err_set(err, errlen, NORC_ECONFIG, "%s: every token needs a name "
					  "(letters, digits, _ . - @)", where);
		else if (role < 0)
			rc = norc_err_set(err, errlen, NORC_ECONFIG, "%s: token %s: role must be "
					  "viewer, operator or admin", where, name);
		else if (!sha || from_hex(sha, t.sha, sizeof(t.sha)) != 0)
			rc = norc_err_set(err, errlen, NORC_ECONFIG, "%s: token %s: sha256 must be 64 "
					  "hex digits; `norc web token NAME --role ROLE` prints the "
					  "line", where, name);
		if (rc != NORC_OK)
			break;
		t.name = norc_xstrdup(name);
		t.role = role;
		*tokens = norc_xrealloc(*tokens, (*nt + 1) * sizeof(**tokens));
		(*tokens)[(*nt)++] = t;
	}
	if (rc != NORC_OK) {
		free_users(*users, *n, *tokens, *nt);
		*users = NULL;
		*tokens = NULL;
		*n = *nt = 0;
	}
	return rc;
}

int norc_webauth_new(const struct norc_config *cfg, struct norc_webauth **out, char *err,
		     size_t errlen)
{
	*out = NULL;
	struct norc_webauth *a = norc_xcalloc(1, sizeof(*a));
	a->cd = norc_xcalloc(1, sizeof(*a->cd));
	a->sessions = norc_xcalloc(MAX_SESSIONS, sizeof(*a->sessions));
	a->limits = norc_xcalloc(MAX_LIMITS, sizeof(*a->limits));
	int rc = norc_webauth_reload(a, cfg, err, errlen);
	if (rc == NORC_OK) {
		char salt[CRYPT_GENSALT_OUTPUT_SIZE];
		const char *h = NULL;
		if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)))
			h = crypt_r("norc-dummy-password", salt, a->cd);
		if (!h || h[0] == '*')
			rc = norc_err_set(err, errlen, NORC_ERR, "web: crypt(3) cannot make a "
					  "yescrypt hash on this host (libxcrypt is needed)");
		else
			snprintf(a->dummy_hash, sizeof(a->dummy_hash), "%s", h);
	}
	if (rc != NORC_OK) {
		norc_webauth_free(a);
		return rc;
	}
	*out = a;
	return NORC_OK;
}

static void session_drop(struct norc_webauth *a, size_t i)
{
	free(a->sessions[i].user);
	a->sessions[i] = a->sessions[--a->n_sessions];
	memset(&a->sessions[a->n_sessions], 0, sizeof(a->sessions[0]));
}

int norc_webauth_reload(struct norc_webauth *a, const struct norc_config *cfg, char *err,
			size_t errlen)
{
	struct user *users;
	struct token *tokens;
	size_t n, nt;
	int rc = load(cfg, &users, &n, &tokens, &nt, err, errlen);
	if (rc != NORC_OK)
		return rc;
	free_users(a->users, a->n_users, a->tokens, a->n_tokens);
	a->users = users;
	a->n_users = n;
	a->tokens = tokens;
	a->n_tokens = nt;
	a->anonymous = strcmp(cfg->web.anonymous, "viewer") == 0 ? NORC_ROLE_VIEWER : NORC_ROLE_NONE;
	a->idle_us = (int64_t)cfg->web.session_idle_s * 1000000;
	a->max_us = (int64_t)cfg->web.session_max_s * 1000000;
	for (size_t i = a->n_sessions; i-- > 0;) {
		struct session *s = &a->sessions[i];
		size_t j = 0;
		while (j < n && strcmp(users[j].name, s->user) != 0)
			j++;
		unsigned char pw[32];
		if (j < n)
			sha256(users[j].hash, strlen(users[j].hash), pw);
		if (j == n || users[j].role != s->role || memcmp(pw, s->pw, sizeof(pw)) != 0)
			session_drop(a, i);
	}
	return NORC_OK;
}

void norc_webauth_free(struct norc_webauth *a)
{
	if (!a)
		return;
	free_users(a->users, a->n_users, a->tokens, a->n_tokens);
	while (a->n_sessions)
		session_drop(a, a->n_sessions - 1);
	free(a->sessions);
	free(a->limits);
	if (a->cd)
		OPENSSL_cleanse(a->cd, sizeof(*a->cd));
	free(a->cd);
	free(a);
}

size_t norc_webauth_user_count(const struct norc_webauth *a) { return a->n_users; }
size_t norc_webauth_session_count(const struct norc_webauth *a) { return a->n_sessions; }

static void limit_key(char key[96], const char *kind, const char *what)
{
	snprintf(key, 96, "%s%.80s", kind, what ? what : "");
}

/* The live entry of key, or NULL. An entry quiet for LIMIT_WINDOW_US and not blocking is
 * forgotten. */
static struct limit *limit_find(struct norc_webauth *a, const char *key, int64_t now)
{
	for (size_t i = 0; i < a->n_limits; i++) {
		struct limit *l = &a->limits[i];
		if (strcmp(l->key, key) != 0)
			continue;
		if (now - l->last > LIMIT_WINDOW_US && now >= l->until) {
			a->limits[i] = a->limits[--a->n_limits];
			return NULL;
		}
		return l;
	}
	return NULL;
}

/* Count a failure for key: after NORC_WEBAUTH_MAX_FAILURES of them a wait begins (30 s, then
 * doubling per further round, up to MAX_WAIT_S). A full table makes room by forgetting the
 * entry quiet longest, never one that is blocking; when every entry blocks, the failure is
 * not recorded (each of them already holds an attacker back). */
static void limit_fail(struct norc_webauth *a, const char *key, int64_t now)
{
	struct limit *l = limit_find(a, key, now);
	if (!l) {
		size_t slot = a->n_limits;
		if (slot == MAX_LIMITS) {
			slot = SIZE_MAX;
			for (size_t i = 0; i < a->n_limits; i++)
				if (now >= a->limits[i].until &&
				    (slot == SIZE_MAX || a->limits[i].last < a->limits[slot].last))
					slot = i;
			if (slot == SIZE_MAX)
				return;
		} else {
			a->n_limits++;
		}
		l = &a->limits[slot];
		*l = (struct limit){0};
		snprintf(l->key, sizeof(l->key), "%s", key);
	}
	l->last = now;
	if (++l->failures < NORC_WEBAUTH_MAX_FAILURES)
		return;
	l->failures = 0;
	l->wait_s = l->wait_s ? l->wait_s * 2 : FIRST_WAIT_S;
	if (l->wait_s > MAX_WAIT_S)
		l->wait_s = MAX_WAIT_S;
	l->until = now + (int64_t)l->wait_s * 1000000;
}

/* Seconds until key may try again; 0 when it may now. */
static int limit_wait(struct norc_webauth *a, const char *key, int64_t now)
{
	struct limit *l = limit_find(a, key, now);
	return l && now < l->until ? (int)((l->until - now + 999999) / 1000000) : 0;
}

static void limit_forget(struct norc_webauth *a, const char *key, int64_t now)
{
	struct limit *l = limit_find(a, key, now);
	if (l)
		*l = a->limits[--a->n_limits];
}

/* Drop the sessions past their idle time or lifetime. */
static void session_sweep(struct norc_webauth *a, int64_t now)
{
	for (size_t i = a->n_sessions; i-- > 0;)
		if (now - a->sessions[i].last > a->idle_us ||
		    now - a->sessions[i].created > a->max_us)
			session_drop(a, i);
}

static void who_of(const struct session *s, struct norc_webauth_who *who)
{
	*who = (struct norc_webauth_who){s->user, s->role, s->csrf, true};
}

int norc_webauth_login(struct norc_webauth *a, const char *client, const char *user,
		       const char *password, int64_t now, char cookie[NORC_WEBAUTH_ID_LEN],
		       struct norc_webauth_who *who, int *retry_after_s)
{
	*retry_after_s = 0;
	char ka[96], ku[96];
	limit_key(ka, "a:", client ? client : "?");
	limit_key(ku, "u:", user);
	int wa = limit_wait(a, ka, now), wu = limit_wait(a, ku, now);
	if (wa || wu) { /* refused unchecked, and not counted: waiting is not failing */
		*retry_after_s = wa > wu ? wa : wu;
		return NORC_EBUSY;
	}
	const struct user *u = NULL;
	for (size_t i = 0; user && i < a->n_users; i++)
		if (strcmp(a->users[i].name, user) == 0)
			u = &a->users[i];
	/* an unknown name costs what a known one does: the first user's hash method and cost */
	const char *hash = u ? u->hash : a->n_users ? a->users[0].hash : a->dummy_hash;
	const char *got = crypt_r(password ? password : "", hash, a->cd);
	bool ok = u && got && got[0] != '*' && strlen(got) == strlen(hash) &&
		  CRYPTO_memcmp(got, hash, strlen(hash)) == 0;
	OPENSSL_cleanse(a->cd->output, sizeof(a->cd->output));
	if (!ok) {
		limit_fail(a, ka, now);
		limit_fail(a, ku, now);
		return NORC_EINVAL;
	}
	limit_forget(a, ka, now);
	limit_forget(a, ku, now);
	session_sweep(a, now);
	/* a user at MAX_USER_SESSIONS loses its own session idle longest; a full table loses the
	 * session idle longest of all */
	size_t mine = 0, my_old = SIZE_MAX, old = 0;
	for (size_t i = 0; i < a->n_sessions; i++) {
		if (strcmp(a->sessions[i].user, u->name) == 0) {
			mine++;
			if (my_old == SIZE_MAX || a->sessions[i].last < a->sessions[my_old].last)
				my_old = i;
		}
		if (a->sessions[i].last < a->sessions[old].last)
			old = i;
	}
	if (mine >= MAX_USER_SESSIONS)
		session_drop(a, my_old);
	else if (a->n_sessions == MAX_SESSIONS)
		session_drop(a, old);
	struct session *s = &a->sessions[a->n_sessions];
	if (random_hex(cookie) != NORC_OK || random_hex(s->csrf) != NORC_OK)
		return NORC_ERR;
	sha256(cookie, strlen(cookie), s->key);
	sha256(u->hash, strlen(u->hash), s->pw);
	s->user = norc_xstrdup(u->name);
	s->role = u->role;
	s->created = s->last = now;
	a->n_sessions++;
	who_of(s, who);
	return NORC_OK;
}

/* Index of cookie's session, -1 when none. */
static long session_find(const struct norc_webauth *a, const char *cookie)
{
	if (!cookie || strlen(cookie) != NORC_WEBAUTH_ID_LEN - 1)
		return -1;
	unsigned char key[32];
	sha256(cookie, strlen(cookie), key);
	for (size_t i = 0; i < a->n_sessions; i++)
		if (memcmp(a->sessions[i].key, key, sizeof(key)) == 0)
			return (long)i;
	return -1;
}

int norc_webauth_session(struct norc_webauth *a, const char *cookie, int64_t now,
			 struct norc_webauth_who *who)
{
	long i = session_find(a, cookie);
	if (i < 0)
		return NORC_ENOTFOUND;
	struct session *s = &a->sessions[i];
	if (now - s->last > a->idle_us || now - s->created > a->max_us) {
		session_drop(a, (size_t)i);
		return NORC_ENOTFOUND;
	}
	s->last = now;
	who_of(s, who);
	return NORC_OK;
}

void norc_webauth_logout(struct norc_webauth *a, const char *cookie)
{
	long i = session_find(a, cookie);
	if (i >= 0)
		session_drop(a, (size_t)i);
}

int norc_webauth_bearer(const struct norc_webauth *a, const char *token,
			struct norc_webauth_who *who)
{
	if (!token || !*token)
		return NORC_ENOTFOUND;
	unsigned char sha[32];
	sha256(token, strlen(token), sha);
	for (size_t i = 0; i < a->n_tokens; i++)
		if (CRYPTO_memcmp(a->tokens[i].sha, sha, sizeof(sha)) == 0) {
			*who = (struct norc_webauth_who){a->tokens[i].name, a->tokens[i].role, NULL,
							 false};
			return NORC_OK;
		}
	return NORC_ENOTFOUND;
}

bool norc_webauth_csrf_ok(const struct norc_webauth_who *who, const char *header)
{
	if (!who->session)
		return true;
	if (!header || !who->csrf || strlen(header) != strlen(who->csrf))
		return false;
	return CRYPTO_memcmp(header, who->csrf, strlen(who->csrf)) == 0;
}

int norc_webauth_anonymous_role(const struct norc_webauth *a) { return a->anonymous; }

int norc_webauth_hash_password(const char *password, char *out, size_t outlen, char *err,
			       size_t errlen)
{
	if (!password || strlen(password) < 8)
		return norc_err_set(err, errlen, NORC_EINVAL, "the password must have at least 8 "
				    "characters");
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = norc_xcalloc(1, sizeof(*cd));
	const char *h = NULL;
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)))
		h = crypt_r(password, salt, cd);
	int rc = NORC_OK;
	if (!h || h[0] == '*' || strlen(h) >= outlen)
		rc = norc_err_set(err, errlen, NORC_ERR, "crypt(3) could not make a yescrypt hash");
	else
		snprintf(out, outlen, "%s", h);
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return rc;
}

int norc_webauth_new_token(char token[NORC_WEBAUTH_TOKEN_LEN], char sha256_hex[65])
{
	char r[NORC_WEBAUTH_ID_LEN];
	if (random_hex(r) != NORC_OK)
		return NORC_ERR;
	snprintf(token, NORC_WEBAUTH_TOKEN_LEN, "norc_%s", r);
	unsigned char sha[32];
	sha256(token, strlen(token), sha);
	to_hex(sha, sizeof(sha), sha256_hex);
	return NORC_OK;
}

int norc_webauth_users_file_set(const char *path, const char *name, int role, const char *hash,
				char *err, size_t errlen)
{
	if (!valid_name(name))
		return norc_err_set(err, errlen, NORC_EINVAL, "user name '%s' is not valid; use "
				    "1-64 letters, digits and _ . - @", name);
	if (hash && (role < NORC_ROLE_VIEWER || role > NORC_ROLE_ADMIN || !strong_hash(hash) ||
		     strpbrk(hash, ":\r\n")))
		return norc_err_set(err, errlen, NORC_EINVAL, "user %s: give a role (viewer, "
				    "operator, admin) and a crypt(3) hash from norc_webauth_hash_"
				    "password", name);
	/* one writer at a time: two `norc web user add` never lose each other's change */
	char *lockpath = norc_xasprintf("%s.lock", path);
	int lock = open(lockpath, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	free(lockpath);
	if (lock < 0 || flock(lock, LOCK_EX) != 0) {
		int e = errno;
		if (lock >= 0)
			close(lock);
		return norc_err_set(err, errlen, NORC_EIO, "users file %s: cannot lock it (%s)", path,
				    strerror(e));
	}
	FILE *in = fopen(path, "re");
	if (!in && errno != ENOENT) {
		close(lock);
		return norc_err_set(err, errlen, NORC_EIO, "users file %s: cannot read it (%s)",
				    path, strerror(errno));
	}
	char *tmp = norc_xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!out) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		if (in)
			fclose(in);
		free(tmp);
		close(lock);
		return norc_err_set(err, errlen, NORC_EIO, "users file %s: cannot write next to it "
				    "(%s)", path, strerror(e));
	}
	/* the new file keeps the old one's owner and group (norc_web must still read it after
	 * an edit through sudo), never a wider mode than 0600 */
	struct stat st;
	if (in && fstat(fileno(in), &st) == 0 &&
	    (fchown(fd, st.st_uid, st.st_gid) != 0 || fchmod(fd, st.st_mode & 0600) != 0))
		NORC_WARN("users file %s: cannot keep its owner (%s)", path, strerror(errno));
	char *line = NULL;
	size_t cap = 0, nl = strlen(name);
	bool found = false;
	if (!in)
		fprintf(out, "# norc_web users: name:role:crypt(3) hash. Managed by `norc web "
			"user add|rm`.\n");
	while (in && getline(&line, &cap, in) > 0) {
		if (strncmp(line, name, nl) == 0 && line[nl] == ':') {
			found = true;
			continue; /* replaced below, or removed */
		}
		fputs(line, out);
		if (!strchr(line, '\n'))
			fputc('\n', out);
	}
	free(line);
	int rc = NORC_OK;
	if (in && ferror(in))
		rc = norc_err_set(err, errlen, NORC_EIO, "users file %s: cannot read it whole (%s); "
				  "left as it was", path, strerror(errno));
	if (in)
		fclose(in);
	if (hash)
		fprintf(out, "%s:%s:%s\n", name, norc_webauth_role_name(role), hash);
	if (rc == NORC_OK && (fflush(out) != 0 || fsync(fileno(out)) != 0))
		rc = norc_err_set(err, errlen, NORC_EIO, "users file %s: cannot write it (%s)", path,
				  strerror(errno));
	fclose(out);
	if (rc == NORC_OK && !hash && !found)
		rc = norc_err_set(err, errlen, NORC_ENOTFOUND, "users file %s: there is no user %s",
				  path, name);
	if (rc == NORC_OK && rename(tmp, path) != 0)
		rc = norc_err_set(err, errlen, NORC_EIO, "users file %s: cannot replace it (%s)",
				  path, strerror(errno));
	if (rc != NORC_OK)
		unlink(tmp);
	free(tmp);
	close(lock);
	return rc;
}
