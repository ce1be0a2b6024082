/*
 * test_webauth.c - who may use norc_web (core/webauth.c): role names; login with yescrypt
 * hashes; the per-user-name and per-address login limiter with its doubling wait; session
 * idle and maximum lifetimes, logout and bogus cookies; CSRF checks; API tokens by SHA-256;
 * reloads that end the sessions of removed or re-roled users and keep the old state on a bad
 * config; refused configs (duplicate users, weak hashes, bad names); the users file written
 * by `norc web user add|rm`; the anonymous role; the password length rule.
 *
 * Hashes are made once in main (yescrypt is slow); every test builds its own norc_webauth
 * from a config file in a fresh mkdtemp folder, so it also runs with CK_FORK=no (valgrind).
 */
#include "config.h"
#include "webauth.h"

#include "unit.h"

#include <check.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S(x) ((int64_t)(x) * 1000000) /* seconds -> the us of now_us */
#define T0 S(1000000)

#define PW_ALICE "alice-secret-1"
#define PW_BOB "bob-secret-22"
#define PW_CAROL "carol-secret-333"
#define PW_DAVE "dave-secret-4444"

/* one inline user record; its password_hash is the next printf argument */
#define USER(name, role) "{ name = \"" name "\"; role = \"" role "\"; password_hash = \"%s\"; }"

static char h_alice[256], h_bob[256], h_carol[256], h_dave[256];

static char dir[] = "/tmp/norc-webauth-XXXXXX";
static char file[4200], users_path[4200];

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/norc.conf", dir);
	snprintf(users_path, sizeof(users_path), "%s/users", dir);
}

static void teardown(void)
{
	unlink(file);
	unlink(users_path);
	char lockfile[sizeof(users_path) + 8];
	snprintf(lockfile, sizeof(lockfile), "%s.lock", users_path);
	unlink(lockfile);
	rmdir(dir);
	strcpy(dir, "/tmp/norc-webauth-XXXXXX");
}

/* Load a config whose web group is the formatted text. */
__attribute__((format(printf, 1, 2))) static struct norc_config *cfg_load(const char *fmt, ...)
{
	char web[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(web, sizeof(web), fmt, ap);
	va_end(ap);
	FILE *f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "database: { path = \"x.db\"; };\nweb: {\n%s\n};\n", web);
	fclose(f);
	struct norc_config *cfg = NULL;
	char err[512] = "";
	ck_assert_msg(norc_config_load(file, &cfg, err, sizeof(err)) == NORC_OK, "config: %s", err);
	return cfg;
}

/* norc_webauth_new on the formatted web group; err gets its message. */
__attribute__((format(printf, 4, 5))) static int try_new(struct norc_webauth **a, char *err,
							 size_t errlen, const char *fmt, ...)
{
	char web[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(web, sizeof(web), fmt, ap);
	va_end(ap);
	struct norc_config *cfg = cfg_load("%s", web);
	err[0] = '\0';
	int rc = norc_webauth_new(cfg, a, err, errlen);
	norc_config_free(cfg);
	return rc;
}

/* norc_webauth_reload on the formatted web group. */
__attribute__((format(printf, 4, 5))) static int try_reload(struct norc_webauth *a, char *err,
							    size_t errlen, const char *fmt, ...)
{
	char web[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(web, sizeof(web), fmt, ap);
	va_end(ap);
	struct norc_config *cfg = cfg_load("%s", web);
	err[0] = '\0';
	int rc = norc_webauth_reload(a, cfg, err, errlen);
	norc_config_free(cfg);
	return rc;
}

/* alice admin, bob viewer, carol operator */
static struct norc_webauth *auth_abc(const char *extra)
{
	struct norc_webauth *a = NULL;
	char err[512];
	int rc = try_new(&a, err, sizeof(err),
			 "%s\nusers = ( " USER("alice", "admin") ", " USER("bob", "viewer") ", "
			 USER("carol", "operator") " );", extra, h_alice, h_bob, h_carol);
	ck_assert_msg(rc == NORC_OK, "norc_webauth_new: %s", err);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(norc_webauth_user_count(a), 3);
	return a;
}

static bool is_hex64(const char *s)
{
	if (!s || strlen(s) != 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static int login(struct norc_webauth *a, const char *client, const char *user, const char *pw,
		 int64_t now, char cookie[NORC_WEBAUTH_ID_LEN], int *retry)
{
	struct norc_webauth_who who;
	return norc_webauth_login(a, client, user, pw, now, cookie, &who, retry);
}

START_TEST(roles)
{
	for (int r = NORC_ROLE_VIEWER; r <= NORC_ROLE_ADMIN; r++)
		ck_assert_int_eq(norc_webauth_role_parse(norc_webauth_role_name(r)), r);
	ck_assert_int_eq(norc_webauth_role_parse("viewer"), NORC_ROLE_VIEWER);
	ck_assert_int_eq(norc_webauth_role_parse("operator"), NORC_ROLE_OPERATOR);
	ck_assert_int_eq(norc_webauth_role_parse("admin"), NORC_ROLE_ADMIN);
	ck_assert_str_eq(norc_webauth_role_name(NORC_ROLE_ADMIN), "admin");
	ck_assert_str_eq(norc_webauth_role_name(NORC_ROLE_NONE), "none");
	ck_assert_int_eq(norc_webauth_role_parse("boss"), -1);
	ck_assert_int_eq(norc_webauth_role_parse("Admin"), -1);
	ck_assert_int_eq(norc_webauth_role_parse("admin "), -1);
	ck_assert_int_eq(norc_webauth_role_parse(""), -1);
	ck_assert_int_eq(norc_webauth_role_parse(NULL), -1);
	ck_assert_str_eq(norc_webauth_role_name(4), "?");
	ck_assert_str_eq(norc_webauth_role_name(-1), "?");
}
END_TEST

START_TEST(login_checks_password)
{
	struct norc_webauth *a = auth_abc("");
	char cookie[NORC_WEBAUTH_ID_LEN], cookie2[NORC_WEBAUTH_ID_LEN];
	struct norc_webauth_who who;
	int retry = -1;
	ck_assert_int_eq(norc_webauth_login(a, "10.0.0.1", "alice", PW_ALICE, T0, cookie, &who,
					    &retry), NORC_OK);
	ck_assert_int_eq(retry, 0);
	ck_assert_msg(is_hex64(cookie), "cookie: %s", cookie);
	ck_assert_str_eq(who.user, "alice");
	ck_assert_int_eq(who.role, NORC_ROLE_ADMIN);
	ck_assert_msg(is_hex64(who.csrf), "csrf: %s", who.csrf ? who.csrf : "(null)");
	ck_assert_str_ne(who.csrf, cookie);
	ck_assert(who.session);
	ck_assert_uint_eq(norc_webauth_session_count(a), 1);

	ck_assert_int_eq(norc_webauth_login(a, "10.0.0.1", "bob", PW_BOB, T0, cookie2, &who,
					    &retry), NORC_OK);
	ck_assert_str_eq(who.user, "bob");
	ck_assert_int_eq(who.role, NORC_ROLE_VIEWER);
	ck_assert_str_ne(cookie, cookie2);
	ck_assert_uint_eq(norc_webauth_session_count(a), 2);

	/* another user's password, a near miss, unknown name, NULL password */
	ck_assert_int_eq(login(a, "10.0.0.1", "alice", PW_BOB, T0, cookie2, &retry), NORC_EINVAL);
	ck_assert_int_eq(login(a, "10.0.0.1", "alice", PW_ALICE "x", T0, cookie2, &retry),
			 NORC_EINVAL);
	ck_assert_int_eq(login(a, "10.0.0.1", "mallory", PW_ALICE, T0, cookie2, &retry),
			 NORC_EINVAL);
	ck_assert_int_eq(login(a, "10.0.0.1", "alice", NULL, T0, cookie2, &retry), NORC_EINVAL);
	/* unknown names are checked against an internal dummy hash, which never lets anyone in */
	ck_assert_int_eq(login(a, "10.0.0.2", "mallory", "norc-dummy-password", T0, cookie2, &retry),
			 NORC_EINVAL);
	ck_assert_int_eq(retry, 0);
	ck_assert_uint_eq(norc_webauth_session_count(a), 2);
	norc_webauth_free(a);
}
END_TEST

START_TEST(limit_per_user_name)
{
	struct norc_webauth *a = auth_abc("");
	char cookie[NORC_WEBAUTH_ID_LEN], client[32];
	int retry = -1;
	for (int i = 1; i <= NORC_WEBAUTH_MAX_FAILURES; i++) {
		snprintf(client, sizeof(client), "10.0.0.%d", i);
		ck_assert_int_eq(login(a, client, "alice", "wrong-password", T0, cookie, &retry),
				 NORC_EINVAL);
	}
	/* the sixth, from a fresh address and with the right password, is not even checked */
	ck_assert_int_eq(login(a, "10.0.0.6", "alice", PW_ALICE, T0, cookie, &retry), NORC_EBUSY);
	ck_assert_int_eq(retry, 30);
	ck_assert_int_eq(login(a, "10.0.0.6", "alice", PW_ALICE, T0 + S(10), cookie, &retry),
			 NORC_EBUSY);
	ck_assert_int_eq(retry, 20);
	ck_assert_int_eq(login(a, "10.0.0.6", "alice", PW_ALICE, T0 + S(29) + 1, cookie, &retry),
			 NORC_EBUSY);
	ck_assert_int_eq(retry, 1);
	ck_assert_uint_eq(norc_webauth_session_count(a), 0);
	/* only the name is blocked: the same addresses may log in as someone else */
	ck_assert_int_eq(login(a, "10.0.0.1", "bob", PW_BOB, T0 + S(1), cookie, &retry), NORC_OK);

	/* after the wait the right password works and clears the count */
	int64_t t = T0 + S(30);
	ck_assert_int_eq(login(a, "10.0.0.6", "alice", PW_ALICE, t, cookie, &retry), NORC_OK);
	ck_assert_int_eq(retry, 0);
	for (int i = 1; i < NORC_WEBAUTH_MAX_FAILURES; i++)
		ck_assert_int_eq(login(a, "10.0.1.1", "alice", "wrong-password", t, cookie, &retry),
				 NORC_EINVAL);
	ck_assert_int_eq(login(a, "10.0.1.2", "alice", PW_ALICE, t, cookie, &retry), NORC_OK);
	/* and the wait starts again at 30 s */
	for (int i = 1; i <= NORC_WEBAUTH_MAX_FAILURES; i++)
		ck_assert_int_eq(login(a, "10.0.1.3", "alice", "wrong-password", t, cookie, &retry),
				 NORC_EINVAL);
	ck_assert_int_eq(login(a, "10.0.1.4", "alice", PW_ALICE, t, cookie, &retry), NORC_EBUSY);
	ck_assert_int_eq(retry, 30);
	norc_webauth_free(a);
}
END_TEST

START_TEST(limit_per_address)
{
	struct norc_webauth *a = auth_abc("");
	char cookie[NORC_WEBAUTH_ID_LEN], name[32];
	int retry = -1;
	for (int i = 1; i <= NORC_WEBAUTH_MAX_FAILURES; i++) {
		snprintf(name, sizeof(name), "guess%d", i);
		ck_assert_int_eq(login(a, "192.0.2.7", name, "wrong-password", T0, cookie, &retry),
				 NORC_EINVAL);
	}
	ck_assert_int_eq(login(a, "192.0.2.7", "alice", PW_ALICE, T0 + S(5), cookie, &retry),
			 NORC_EBUSY);
	ck_assert_int_eq(retry, 25);
	/* alice's name is not blocked: from elsewhere she gets in */
	ck_assert_int_eq(login(a, "192.0.2.8", "alice", PW_ALICE, T0 + S(5), cookie, &retry),
			 NORC_OK);
	ck_assert_int_eq(login(a, "192.0.2.7", "bob", PW_BOB, T0 + S(30), cookie, &retry), NORC_OK);
	norc_webauth_free(a);
}
END_TEST

START_TEST(limit_wait_doubles)
{
	struct norc_webauth *a = auth_abc("");
	char cookie[NORC_WEBAUTH_ID_LEN];
	int retry = -1;
	int64_t t = T0;
	for (int i = 1; i <= NORC_WEBAUTH_MAX_FAILURES; i++)
		ck_assert_int_eq(login(a, "10.9.9.9", "carol", "wrong-password", t, cookie, &retry),
				 NORC_EINVAL);
	ck_assert_int_eq(login(a, "10.9.9.9", "carol", "wrong-password", t, cookie, &retry),
			 NORC_EBUSY);
	ck_assert_int_eq(retry, 30);
	/* without a success in between, every next block waits twice as long */
	for (int want = 60; want <= 120; want *= 2) {
		t += S(want / 2);
		int n = 0, rc;
		while ((rc = login(a, "10.9.9.9", "carol", "wrong-password", t, cookie, &retry)) ==
		       NORC_EINVAL)
			ck_assert_int_le(++n, NORC_WEBAUTH_MAX_FAILURES);
		ck_assert_int_eq(rc, NORC_EBUSY);
		ck_assert_int_eq(n, NORC_WEBAUTH_MAX_FAILURES); /* a new round of failures */
		ck_assert_int_eq(retry, want);
	}
	t += S(120);
	ck_assert_int_eq(login(a, "10.9.9.9", "carol", PW_CAROL, t, cookie, &retry), NORC_OK);
	norc_webauth_free(a);
}
END_TEST

/* Attempts refused while blocked are not checked and create no limiter entries, so flooding
 * new names cannot push a blocking entry out of the table; steady guessing keeps the wait
 * growing to its cap instead of starting over every 15 minutes. */
START_TEST(limit_not_evaded)
{
	struct norc_webauth *a = auth_abc("");
	char cookie[NORC_WEBAUTH_ID_LEN], name[32];
	int retry = -1;
	int64_t t = T0;
	for (int i = 0; i < NORC_WEBAUTH_MAX_FAILURES; i++)
		login(a, "10.7.7.7", "carol", "wrong-password", t, cookie, &retry);
	for (int i = 0; i < 5000; i++) { /* blocked: answered without crypt(3), cheaply */
		snprintf(name, sizeof(name), "n%d", i);
		ck_assert_int_eq(login(a, "10.7.7.7", name, "x", t, cookie, &retry), NORC_EBUSY);
	}
	ck_assert_int_eq(login(a, "10.7.7.7", "carol", PW_CAROL, t, cookie, &retry), NORC_EBUSY);
	/* steady guessing from rotating addresses: the wait doubles up to 15 minutes */
	int last = 30, addr = 0;
	for (int round = 0; round < 8; round++) {
		t += S(last);
		for (int i = 0; i < NORC_WEBAUTH_MAX_FAILURES; i++) {
			char ip[32];
			snprintf(ip, sizeof(ip), "10.8.0.%d", ++addr);
			ck_assert_int_eq(login(a, ip, "carol", "wrong-password", t, cookie, &retry),
					 NORC_EINVAL);
		}
		ck_assert_int_eq(login(a, "10.8.1.1", "carol", "x", t, cookie, &retry), NORC_EBUSY);
		last = retry;
	}
	ck_assert_int_eq(last, 900);
	norc_webauth_free(a);
}
END_TEST

START_TEST(sessions)
{
	struct norc_webauth *a = auth_abc("session_idle = 60;\nsession_max = 120;");
	char c1[NORC_WEBAUTH_ID_LEN], c2[NORC_WEBAUTH_ID_LEN], c3[NORC_WEBAUTH_ID_LEN];
	char csrf1[NORC_WEBAUTH_ID_LEN], bad[NORC_WEBAUTH_ID_LEN + 1];
	struct norc_webauth_who who;
	int retry;
	ck_assert_int_eq(norc_webauth_login(a, "::1", "alice", PW_ALICE, T0, c1, &who, &retry),
			 NORC_OK);
	snprintf(csrf1, sizeof(csrf1), "%s", who.csrf);
	ck_assert_int_eq(norc_webauth_login(a, "::1", "bob", PW_BOB, T0, c2, &who, &retry), NORC_OK);
	ck_assert_int_eq(norc_webauth_login(a, "::1", "carol", PW_CAROL, T0, c3, &who, &retry),
			 NORC_OK);
	ck_assert_uint_eq(norc_webauth_session_count(a), 3);

	/* use refreshes the idle time: 50 + 50 s is past session_idle, but never idle that long */
	memset(&who, 0, sizeof(who));
	ck_assert_int_eq(norc_webauth_session(a, c1, T0 + S(50), &who), NORC_OK);
	ck_assert_str_eq(who.user, "alice");
	ck_assert_int_eq(who.role, NORC_ROLE_ADMIN);
	ck_assert_str_eq(who.csrf, csrf1);
	ck_assert(who.session);
	ck_assert_int_eq(norc_webauth_session(a, c1, T0 + S(100), &who), NORC_OK);
	ck_assert_int_eq(norc_webauth_session(a, c2, T0 + S(59), &who), NORC_OK);
	ck_assert_str_eq(who.user, "bob");
	/* bob idle for 61 s: gone */
	ck_assert_int_eq(norc_webauth_session(a, c2, T0 + S(120), &who), NORC_ENOTFOUND);
	ck_assert_uint_eq(norc_webauth_session_count(a), 2);
	ck_assert_int_eq(norc_webauth_session(a, c2, T0 + S(120), &who), NORC_ENOTFOUND);
	/* alice used 20 s ago, but past session_max */
	ck_assert_int_eq(norc_webauth_session(a, c1, T0 + S(121), &who), NORC_ENOTFOUND);
	ck_assert_uint_eq(norc_webauth_session_count(a), 1);

	/* bogus cookies and their logouts touch nothing */
	ck_assert_int_eq(norc_webauth_session(a, NULL, T0, &who), NORC_ENOTFOUND);
	ck_assert_int_eq(norc_webauth_session(a, "", T0, &who), NORC_ENOTFOUND);
	ck_assert_int_eq(norc_webauth_session(a, "abc", T0, &who), NORC_ENOTFOUND);
	memset(bad, 'z', 64);
	bad[64] = '\0';
	ck_assert_int_eq(norc_webauth_session(a, bad, T0, &who), NORC_ENOTFOUND);
	snprintf(bad, sizeof(bad), "%s", c3);
	bad[10] = bad[10] == '0' ? '1' : '0';
	ck_assert_int_eq(norc_webauth_session(a, bad, T0, &who), NORC_ENOTFOUND);
	snprintf(bad, sizeof(bad), "%.63s", c3);
	ck_assert_int_eq(norc_webauth_session(a, bad, T0, &who), NORC_ENOTFOUND);
	snprintf(bad, sizeof(bad), "%sa", c3);
	ck_assert_int_eq(norc_webauth_session(a, bad, T0, &who), NORC_ENOTFOUND);
	norc_webauth_logout(a, bad);
	norc_webauth_logout(a, NULL);
	norc_webauth_logout(a, c1); /* already expired */
	ck_assert_uint_eq(norc_webauth_session_count(a), 1);
	ck_assert_int_eq(norc_webauth_session(a, c3, T0 + S(1), &who), NORC_OK);
	ck_assert_str_eq(who.user, "carol");
	ck_assert_int_eq(who.role, NORC_ROLE_OPERATOR);

	norc_webauth_logout(a, c3);
	ck_assert_uint_eq(norc_webauth_session_count(a), 0);
	ck_assert_int_eq(norc_webauth_session(a, c3, T0 + S(2), &who), NORC_ENOTFOUND);
	norc_webauth_free(a);
}
END_TEST

START_TEST(csrf)
{
	struct norc_webauth *a = auth_abc("");
	char cookie[NORC_WEBAUTH_ID_LEN], h[NORC_WEBAUTH_ID_LEN + 1];
	struct norc_webauth_who who;
	int retry;
	ck_assert_int_eq(norc_webauth_login(a, "::1", "bob", PW_BOB, T0, cookie, &who, &retry),
			 NORC_OK);
	snprintf(h, sizeof(h), "%s", who.csrf);
	ck_assert(norc_webauth_csrf_ok(&who, h));
	h[63] = h[63] == 'a' ? 'b' : 'a';
	ck_assert(!norc_webauth_csrf_ok(&who, h));
	snprintf(h, sizeof(h), "%.63s", who.csrf);
	ck_assert(!norc_webauth_csrf_ok(&who, h));
	snprintf(h, sizeof(h), "%s0", who.csrf);
	ck_assert(!norc_webauth_csrf_ok(&who, h));
	ck_assert(!norc_webauth_csrf_ok(&who, NULL));
	ck_assert(!norc_webauth_csrf_ok(&who, ""));
	ck_assert(!norc_webauth_csrf_ok(&who, cookie)); /* the cookie is not the CSRF token */

	/* the session's token comes back from norc_webauth_session too */
	struct norc_webauth_who again;
	ck_assert_int_eq(norc_webauth_session(a, cookie, T0 + S(1), &again), NORC_OK);
	snprintf(h, sizeof(h), "%s", who.csrf);
	ck_assert(norc_webauth_csrf_ok(&again, h));

	/* tokens and anonymous requests need none */
	struct norc_webauth_who tok = {"ci", NORC_ROLE_OPERATOR, NULL, false};
	ck_assert(norc_webauth_csrf_ok(&tok, NULL));
	ck_assert(norc_webauth_csrf_ok(&tok, "anything"));
	/* a session without a token never passes */
	struct norc_webauth_who broken = {"x", NORC_ROLE_ADMIN, NULL, true};
	ck_assert(!norc_webauth_csrf_ok(&broken, NULL));
	ck_assert(!norc_webauth_csrf_ok(&broken, ""));
	norc_webauth_free(a);
}
END_TEST

START_TEST(bearer)
{
	char t1[NORC_WEBAUTH_TOKEN_LEN], s1[65], t2[NORC_WEBAUTH_TOKEN_LEN], s2[65];
	ck_assert_int_eq(norc_webauth_new_token(t1, s1), NORC_OK);
	ck_assert_int_eq(norc_webauth_new_token(t2, s2), NORC_OK);
	ck_assert_uint_eq(strlen(t1), NORC_WEBAUTH_TOKEN_LEN - 1);
	ck_assert_int_eq(strncmp(t1, "norc_", 5), 0);
	ck_assert(is_hex64(t1 + 5));
	ck_assert(is_hex64(s1));
	ck_assert_str_ne(t1, t2);
	ck_assert_str_ne(s1, s2);
	ck_assert_str_ne(s1, t1 + 5);
	/* the second one in upper case: hex digits either way */
	for (char *p = s2; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');

	struct norc_webauth *a = NULL;
	char err[512];
	ck_assert_int_eq(try_new(&a, err, sizeof(err),
				 "tokens = ( { name = \"ci\"; role = \"operator\"; sha256 = \"%s\"; },"
				 " { name = \"dash\"; role = \"viewer\"; sha256 = \"%s\"; } );",
				 s1, s2), NORC_OK);
	ck_assert_uint_eq(norc_webauth_user_count(a), 0);
	struct norc_webauth_who who;
	ck_assert_int_eq(norc_webauth_bearer(a, t1, &who), NORC_OK);
	ck_assert_str_eq(who.user, "ci");
	ck_assert_int_eq(who.role, NORC_ROLE_OPERATOR);
	ck_assert_ptr_null(who.csrf);
	ck_assert(!who.session);
	ck_assert(norc_webauth_csrf_ok(&who, NULL));
	ck_assert_int_eq(norc_webauth_bearer(a, t2, &who), NORC_OK);
	ck_assert_str_eq(who.user, "dash");
	ck_assert_int_eq(who.role, NORC_ROLE_VIEWER);

	char bad[NORC_WEBAUTH_TOKEN_LEN + 1];
	snprintf(bad, sizeof(bad), "%s", t1);
	bad[40] = bad[40] == '0' ? '1' : '0';
	ck_assert_int_eq(norc_webauth_bearer(a, bad, &who), NORC_ENOTFOUND);
	snprintf(bad, sizeof(bad), "%sx", t1);
	ck_assert_int_eq(norc_webauth_bearer(a, bad, &who), NORC_ENOTFOUND);
	ck_assert_int_eq(norc_webauth_bearer(a, t1 + 5, &who), NORC_ENOTFOUND);
	ck_assert_int_eq(norc_webauth_bearer(a, s1, &who), NORC_ENOTFOUND); /* not the hash */
	ck_assert_int_eq(norc_webauth_bearer(a, "", &who), NORC_ENOTFOUND);
	ck_assert_int_eq(norc_webauth_bearer(a, NULL, &who), NORC_ENOTFOUND);
	/* a token is no session cookie */
	ck_assert_int_eq(norc_webauth_session(a, t1, T0, &who), NORC_ENOTFOUND);
	norc_webauth_free(a);
}
END_TEST

START_TEST(reload)
{
	struct norc_webauth *a = auth_abc("");
	char ca[NORC_WEBAUTH_ID_LEN], cb[NORC_WEBAUTH_ID_LEN], cc[NORC_WEBAUTH_ID_LEN];
	char err[512], tok[NORC_WEBAUTH_TOKEN_LEN], sha[65];
	struct norc_webauth_who who;
	int retry;
	ck_assert_int_eq(login(a, "::1", "alice", PW_ALICE, T0, ca, &retry), NORC_OK);
	ck_assert_int_eq(login(a, "::1", "bob", PW_BOB, T0, cb, &retry), NORC_OK);
	ck_assert_int_eq(login(a, "::1", "carol", PW_CAROL, T0, cc, &retry), NORC_OK);
	ck_assert_int_eq(norc_webauth_new_token(tok, sha), NORC_OK);

	/* alice removed, bob now operator, carol unchanged, a token added */
	ck_assert_int_eq(try_reload(a, err, sizeof(err),
				    "users = ( " USER("bob", "operator") ", " USER("carol", "operator")
				    " );\ntokens = ( { name = \"ci\"; role = \"admin\"; sha256 = "
				    "\"%s\"; } );", h_bob, h_carol, sha), NORC_OK);
	ck_assert_uint_eq(norc_webauth_user_count(a), 2);
	ck_assert_uint_eq(norc_webauth_session_count(a), 1);
	ck_assert_int_eq(norc_webauth_session(a, ca, T0 + S(1), &who), NORC_ENOTFOUND);
	ck_assert_int_eq(norc_webauth_session(a, cb, T0 + S(1), &who), NORC_ENOTFOUND);
	ck_assert_int_eq(norc_webauth_session(a, cc, T0 + S(1), &who), NORC_OK);
	ck_assert_str_eq(who.user, "carol");
	ck_assert_int_eq(who.role, NORC_ROLE_OPERATOR);
	ck_assert_int_eq(norc_webauth_bearer(a, tok, &who), NORC_OK);
	ck_assert_int_eq(who.role, NORC_ROLE_ADMIN);

	/* a new password (same role) ends the user's sessions: a stolen cookie dies with it */
	char cc2[NORC_WEBAUTH_ID_LEN];
	ck_assert_int_eq(login(a, "::1", "bob", PW_BOB, T0 + S(2), cb, &retry), NORC_OK);
	ck_assert_int_eq(login(a, "::1", "carol", PW_CAROL, T0 + S(2), cc2, &retry), NORC_OK);
	ck_assert_int_eq(try_reload(a, err, sizeof(err),
				    "users = ( " USER("bob", "operator") ", " USER("carol", "operator")
				    " );\ntokens = ( { name = \"ci\"; role = \"admin\"; sha256 = "
				    "\"%s\"; } );", h_bob, h_dave, sha), NORC_OK);
	ck_assert_int_eq(norc_webauth_session(a, cc, T0 + S(3), &who), NORC_ENOTFOUND);
	ck_assert_int_eq(norc_webauth_session(a, cc2, T0 + S(3), &who), NORC_ENOTFOUND);
	ck_assert_int_eq(norc_webauth_session(a, cb, T0 + S(3), &who), NORC_OK);
	ck_assert_int_eq(try_reload(a, err, sizeof(err),
				    "users = ( " USER("bob", "operator") ", " USER("carol", "operator")
				    " );\ntokens = ( { name = \"ci\"; role = \"admin\"; sha256 = "
				    "\"%s\"; } );", h_bob, h_carol, sha), NORC_OK);
	ck_assert_int_eq(login(a, "::1", "carol", PW_CAROL, T0 + S(4), cc, &retry), NORC_OK);

	/* bad configs are refused, naming the problem, and change nothing */
	static const struct {
		const char *user;   /* a user record after carol, or NULL */
		const char *tokens; /* the tokens setting, or NULL */
		const char *want[2];
	} bad[] = {
		{"{ name = \"dave\"; role = \"viewer\"; password_hash = \"plain\"; }", NULL,
		 {"user dave: password_hash must be", "norc web hash-password"}},
		{"{ name = \"dave\"; role = \"boss\"; password_hash = \"$6$x$y\"; }", NULL,
		 {"user dave: role 'boss' is unknown", "use viewer, operator or admin"}},
		{"{ name = \"dave\"; password_hash = \"$6$x$y\"; }", NULL,
		 {"user dave: role '' is unknown", "viewer"}},
		{NULL, "tokens = ( { name = \"ci\"; role = \"admin\"; sha256 = \"abc123\"; } );",
		 {"token ci: sha256 must be 64 hex digits", "norc web token"}},
		{NULL, "tokens = ( { name = \"ci\"; role = \"admin\"; sha256 = "
		 "\"g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"; } );",
		 {"token ci: sha256 must be 64 hex digits", "web.tokens"}},
		{NULL, "tokens = ( { name = \"ci\"; role = \"admin\"; } );",
		 {"token ci: sha256 must be 64 hex digits", "web.tokens"}},
		{NULL, "tokens = ( { name = \"ci\"; role = \"root\"; sha256 = "
		 "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"; } );",
		 {"token ci: role must be viewer, operator or admin", "web.tokens"}},
		{NULL, "tokens = ( { role = \"admin\"; sha256 = "
		 "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"; } );",
		 {"every token needs a name", "web.tokens"}},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(try_reload(a, err, sizeof(err), "anonymous = \"viewer\";\n"
					    "users = ( " USER("carol", "operator") "%s%s );\n%s",
					    h_carol, bad[i].user ? ", " : "",
					    bad[i].user ? bad[i].user : "",
					    bad[i].tokens ? bad[i].tokens : ""), NORC_ECONFIG);
		for (int k = 0; k < 2; k++)
			ck_assert_msg(strstr(err, bad[i].want[k]), "case %zu: expected \"%s\" in: %s",
				      i, bad[i].want[k], err);
		ck_assert_msg(strstr(err, file), "error must name the config: %s", err);
		ck_assert_ptr_null(strchr(err, '\n'));
		ck_assert_uint_eq(norc_webauth_user_count(a), 2);
		ck_assert_int_eq(norc_webauth_anonymous_role(a), NORC_ROLE_NONE);
		ck_assert_int_eq(norc_webauth_bearer(a, tok, &who), NORC_OK);
		ck_assert_int_eq(norc_webauth_session(a, cc, T0 + S(2), &who), NORC_OK);
	}
	/* the old users still log in */
	ck_assert_int_eq(login(a, "::1", "bob", PW_BOB, T0 + S(3), cb, &retry), NORC_OK);
	ck_assert_int_eq(norc_webauth_session(a, cb, T0 + S(4), &who), NORC_OK);
	ck_assert_int_eq(who.role, NORC_ROLE_OPERATOR);
	ck_assert_uint_eq(norc_webauth_session_count(a), 3); /* bob twice, carol */
	norc_webauth_free(a);
}
END_TEST

START_TEST(new_refuses)
{
	static const struct {
		const char *user; /* one more user record after alice; %s is alice's hash */
		const char *want[2];
	} bad[] = {
		{"{ name = \"alice\"; role = \"viewer\"; password_hash = \"$6$x$y\"; }",
		 {"user alice is defined twice", "keep one"}},
		{"{ name = \"md5\"; role = \"viewer\"; password_hash = \"$1$saltsalt$abcdefghijklmnopqrstuv\"; }",
		 {"user md5: password_hash must be", "norc web hash-password"}},
		{"{ name = \"des\"; role = \"viewer\"; password_hash = \"abJnggxhB/yWI\"; }",
		 {"user des: password_hash must be", "yescrypt"}},
		{"{ name = \"plain\"; role = \"viewer\"; password_hash = \"hunter2hunter2\"; }",
		 {"user plain: password_hash must be", "norc web hash-password"}},
		{"{ name = \"nohash\"; role = \"viewer\"; }",
		 {"user nohash: password_hash must be", "norc web hash-password"}},
		{"{ name = \"bad name\"; role = \"viewer\"; password_hash = \"$6$x$y\"; }",
		 {"user name 'bad name' is not valid", "letters, digits and _ . - @"}},
		{"{ name = \"a:b\"; role = \"viewer\"; password_hash = \"$6$x$y\"; }",
		 {"user name 'a:b' is not valid", "letters, digits"}},
		{"{ name = \"\"; role = \"viewer\"; password_hash = \"$6$x$y\"; }",
		 {"user name '' is not valid", "1-64 letters"}},
		{"{ name = \"x12345678901234567890123456789012345678901234567890123456789012345\";"
		 " role = \"viewer\"; password_hash = \"$6$x$y\"; }",
		 {"is not valid", "1-64 letters"}},
	};
	char err[512];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char web[2048];
		snprintf(web, sizeof(web), "users = ( " USER("alice", "admin") ", %s );", h_alice,
			 bad[i].user);
		struct norc_webauth *a = (void *)err; /* must be set to NULL */
		ck_assert_int_eq(try_new(&a, err, sizeof(err), "%s", web), NORC_ECONFIG);
		ck_assert_ptr_null(a);
		for (int k = 0; k < 2; k++)
			ck_assert_msg(strstr(err, bad[i].want[k]), "case %zu: expected \"%s\" in: %s",
				      i, bad[i].want[k], err);
		ck_assert_msg(strstr(err, "web.users"), "case %zu: %s", i, err);
	}
	/* names of every allowed kind, and a SHA-512 hash, are fine (no login: not checked) */
	struct norc_webauth *a = NULL;
	ck_assert_int_eq(try_new(&a, err, sizeof(err), "users = ( { name = \"Ann.B-c_9@x\"; "
				 "role = \"viewer\"; password_hash = \"$6$salt$abc\"; } );"), NORC_OK);
	ck_assert_uint_eq(norc_webauth_user_count(a), 1);
	norc_webauth_free(a);
}
END_TEST

static int count_dir_entries(void)
{
	DIR *d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	static char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int count_lines_starting(const char *text, const char *prefix)
{
	int n = 0;
	size_t pl = strlen(prefix);
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, prefix, pl) == 0)
			n++;
	return n;
}

START_TEST(users_file)
{
	char err[512], want[4600];
	struct stat st;
	ck_assert_int_eq(norc_webauth_users_file_set(users_path, "dave", NORC_ROLE_OPERATOR, h_dave,
						     err, sizeof(err)), NORC_OK);
	ck_assert_int_eq(stat(users_path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(norc_webauth_users_file_set(users_path, "erin", NORC_ROLE_VIEWER, h_bob,
						     err, sizeof(err)), NORC_OK);
	ck_assert_int_eq(norc_webauth_users_file_set(users_path, "dave", NORC_ROLE_ADMIN, h_dave,
						     err, sizeof(err)), NORC_OK);
	ck_assert_int_eq(stat(users_path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	char *text = slurp(users_path);
	ck_assert_int_eq(count_lines_starting(text, "dave:"), 1);
	snprintf(want, sizeof(want), "dave:admin:%s\n", h_dave);
	ck_assert_msg(strstr(text, want), "users file: %s", text);
	snprintf(want, sizeof(want), "erin:viewer:%s\n", h_bob);
	ck_assert_msg(strstr(text, want), "users file: %s", text);

	ck_assert_int_eq(norc_webauth_users_file_set(users_path, "erin", 0, NULL, err, sizeof(err)),
			 NORC_OK);
	text = slurp(users_path);
	ck_assert_int_eq(count_lines_starting(text, "erin:"), 0);
	ck_assert_int_eq(count_lines_starting(text, "dave:"), 1);
	ck_assert_int_eq(norc_webauth_users_file_set(users_path, "erin", 0, NULL, err, sizeof(err)),
			 NORC_ENOTFOUND);
	ck_assert_msg(strstr(err, "erin"), "%s", err);
	/* "dav" is a prefix of dave, not dave */
	ck_assert_int_eq(norc_webauth_users_file_set(users_path, "dav", 0, NULL, err, sizeof(err)),
			 NORC_ENOTFOUND);
	ck_assert_int_eq(norc_webauth_users_file_set(users_path, "no way", NORC_ROLE_VIEWER, h_dave,
						     err, sizeof(err)), NORC_EINVAL);
	ck_assert_msg(strstr(err, "'no way' is not valid"), "%s", err);
	/* the users file and its lock file; no temporary file left behind */
	ck_assert_int_eq(count_dir_entries(), 2);

	/* read back by norc_webauth_new, next to the inline users (relative to the config) */
	struct norc_webauth *a = NULL;
	ck_assert_int_eq(try_new(&a, err, sizeof(err), "users_file = \"users\";\nusers = ( "
				 USER("alice", "admin") " );", h_alice), NORC_OK);
	ck_assert_uint_eq(norc_webauth_user_count(a), 2);
	char cookie[NORC_WEBAUTH_ID_LEN];
	struct norc_webauth_who who;
	int retry;
	ck_assert_int_eq(norc_webauth_login(a, "::1", "dave", PW_DAVE, T0, cookie, &who, &retry),
			 NORC_OK);
	ck_assert_str_eq(who.user, "dave");
	ck_assert_int_eq(who.role, NORC_ROLE_ADMIN);
	norc_webauth_free(a);

	/* the same user inline and in the file */
	ck_assert_int_eq(try_new(&a, err, sizeof(err), "users_file = \"users\";\nusers = ( "
				 USER("dave", "viewer") " );", h_dave), NORC_ECONFIG);
	ck_assert_msg(strstr(err, "user dave is defined twice"), "%s", err);

	/* a malformed line: its number and the expected form */
	FILE *f = fopen(users_path, "a");
	ck_assert_ptr_nonnull(f);
	fputs("\n# a comment\nbroken line without colons\n", f);
	fclose(f);
	a = (void *)err;
	ck_assert_int_eq(try_new(&a, err, sizeof(err), "users_file = \"users\";"), NORC_ECONFIG);
	ck_assert_ptr_null(a);
	ck_assert_msg(strstr(err, "name:role:hash"), "%s", err);
	snprintf(want, sizeof(want), "%s:5:", users_path); /* header, dave, blank, comment */
	ck_assert_msg(strstr(err, want), "expected \"%s\" in: %s", want, err);

	/* a bad role in the file names user, line and fix */
	f = fopen(users_path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "dave:admin:%s\nerin:boss:%s\n", h_dave, h_bob);
	fclose(f);
	ck_assert_int_eq(try_new(&a, err, sizeof(err), "users_file = \"users\";"), NORC_ECONFIG);
	snprintf(want, sizeof(want), "%s:2: user erin: role 'boss' is unknown", users_path);
	ck_assert_msg(strstr(err, want), "expected \"%s\" in: %s", want, err);

	/* a users file that does not exist yet: no users, not an error */
	unlink(users_path);
	ck_assert_int_eq(try_new(&a, err, sizeof(err), "users_file = \"users\";"), NORC_OK);
	ck_assert_uint_eq(norc_webauth_user_count(a), 0);
	norc_webauth_free(a);
}
END_TEST

START_TEST(anonymous_role)
{
	struct norc_webauth *a = NULL;
	char err[512];
	ck_assert_int_eq(try_new(&a, err, sizeof(err), "listen = \"127.0.0.1:8470\";"), NORC_OK);
	ck_assert_int_eq(norc_webauth_anonymous_role(a), NORC_ROLE_NONE);
	ck_assert_int_eq(try_reload(a, err, sizeof(err), "anonymous = \"viewer\";"), NORC_OK);
	ck_assert_int_eq(norc_webauth_anonymous_role(a), NORC_ROLE_VIEWER);
	norc_webauth_free(a);
	ck_assert_int_eq(try_new(&a, err, sizeof(err), "anonymous = \"viewer\";"), NORC_OK);
	ck_assert_int_eq(norc_webauth_anonymous_role(a), NORC_ROLE_VIEWER);
	ck_assert_int_eq(try_reload(a, err, sizeof(err), "anonymous = \"none\";"), NORC_OK);
	ck_assert_int_eq(norc_webauth_anonymous_role(a), NORC_ROLE_NONE);
	norc_webauth_free(a);
	norc_webauth_free(NULL);
}
END_TEST

START_TEST(hash_password)
{
	char out[256], out2[256], err[512];
	strcpy(out, "untouched");
	ck_assert_int_eq(norc_webauth_hash_password("1234567", out, sizeof(out), err, sizeof(err)),
			 NORC_EINVAL);
	ck_assert_msg(strstr(err, "at least 8 characters"), "%s", err);
	ck_assert_str_eq(out, "untouched");
	ck_assert_int_eq(norc_webauth_hash_password("", out, sizeof(out), err, sizeof(err)),
			 NORC_EINVAL);
	ck_assert_int_eq(norc_webauth_hash_password(NULL, out, sizeof(out), err, sizeof(err)),
			 NORC_EINVAL);
	/* 8 is enough; the salt differs every time */
	ck_assert_int_eq(norc_webauth_hash_password("12345678", out, sizeof(out), err, sizeof(err)),
			 NORC_OK);
	ck_assert_int_eq(strncmp(out, "$y$", 3), 0);
	ck_assert_int_eq(norc_webauth_hash_password("12345678", out2, sizeof(out2), err,
						    sizeof(err)), NORC_OK);
	ck_assert_str_ne(out, out2);
	/* too small a buffer is an error, not a truncated hash */
	char tiny[16];
	ck_assert_int_eq(norc_webauth_hash_password("12345678", tiny, sizeof(tiny), err,
						    sizeof(err)), NORC_ERR);
}
END_TEST

static void make_hash(const char *pw, char *out, size_t outlen)
{
	char err[512];
	if (norc_webauth_hash_password(pw, out, outlen, err, sizeof(err)) != NORC_OK) {
		fprintf(stderr, "hash_password: %s\n", err);
		exit(EXIT_FAILURE);
	}
}

int main(void)
{
	make_hash(PW_ALICE, h_alice, sizeof(h_alice));
	make_hash(PW_BOB, h_bob, sizeof(h_bob));
	make_hash(PW_CAROL, h_carol, sizeof(h_carol));
	make_hash(PW_DAVE, h_dave, sizeof(h_dave));

	Suite *s = suite_create("webauth");
	TCase *tc = tcase_create("webauth");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, roles);
	tcase_add_test(tc, login_checks_password);
	tcase_add_test(tc, limit_per_user_name);
	tcase_add_test(tc, limit_per_address);
	tcase_add_test(tc, limit_wait_doubles);
	tcase_add_test(tc, limit_not_evaded);
	tcase_add_test(tc, sessions);
	tcase_add_test(tc, csrf);
	tcase_add_test(tc, bearer);
	tcase_add_test(tc, reload);
	tcase_add_test(tc, new_refuses);
	tcase_add_test(tc, users_file);
	tcase_add_test(tc, anonymous_role);
	tcase_add_test(tc, hash_password);
	suite_add_tcase(s, tc);
	return norc_unit_run(s);
}
