/*
 * webauth.h - who may use norc_web: users with crypt(3) password hashes (yescrypt or
 * SHA-512) and roles, API tokens (only their SHA-256 is configured), login sessions with a
 * CSRF token each, and login rate limiting. Everything lives in the daemon's memory; nothing
 * here touches the network or the database.
 *
 * Session ids and tokens are 256 random bits (getrandom). They are looked up by their
 * SHA-256, so comparing never leaks a prefix through timing; password checks run crypt(3)
 * even for an unknown user name, so timing does not tell which names exist.
 */
#ifndef NORC_WEBAUTH_H
#define NORC_WEBAUTH_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum norc_role { NORC_ROLE_NONE = 0, NORC_ROLE_VIEWER = 1, NORC_ROLE_OPERATOR = 2,
		 NORC_ROLE_ADMIN = 3 };

#define NORC_WEBAUTH_ID_LEN 65    /* a session id or CSRF token: 64 hex digits and the NUL */
#define NORC_WEBAUTH_TOKEN_LEN 70 /* "norc_" + 64 hex digits and the NUL */
#define NORC_WEBAUTH_MAX_FAILURES 5 /* failed logins per address or user name before a wait */

/* "viewer" ... -> role; -1 when unknown. */
int norc_webauth_role_parse(const char *s);
const char *norc_webauth_role_name(int role);

struct norc_webauth;

/* Who a request comes from. Strings are borrowed from the norc_webauth and stay valid until
 * its next login (which also drops expired sessions), logout or reload. */
struct norc_webauth_who {
	const char *user; /* user or token name; "anonymous" */
	int role;
	const char *csrf; /* the session's CSRF token; NULL for tokens and anonymous */
	bool session;     /* true when from a session cookie (state changes need the CSRF) */
};

/* Build from cfg->web (inline users and tokens, users_file). err names the entry and the
 * fix. Caller frees with norc_webauth_free. */
int norc_webauth_new(const struct norc_config *cfg, struct norc_webauth **out, char *err,
		     size_t errlen);
/* Take users and tokens from cfg again (SIGHUP). Sessions of users who are gone or whose
 * role changed end. On failure a is unchanged. */
int norc_webauth_reload(struct norc_webauth *a, const struct norc_config *cfg, char *err,
			size_t errlen);
void norc_webauth_free(struct norc_webauth *a); /* NULL ok */
size_t norc_webauth_user_count(const struct norc_webauth *a);
size_t norc_webauth_session_count(const struct norc_webauth *a);
/* The role of a request without login: NORC_ROLE_NONE, or VIEWER with anonymous = "viewer". */
int norc_webauth_anonymous_role(const struct norc_webauth *a);

/* Check user and password for client (an address). NORC_OK: cookie gets the new session id
 * and *who the session. NORC_EINVAL: wrong user or password. NORC_EBUSY: too many failures
 * from that address or for that name; *retry_after_s says when to try again (the attempt
 * was not checked). */
int norc_webauth_login(struct norc_webauth *a, const char *client, const char *user,
		       const char *password, int64_t now_us, char cookie[NORC_WEBAUTH_ID_LEN],
		       struct norc_webauth_who *who, int *retry_after_s);
/* The live session of cookie (its idle time restarts). NORC_ENOTFOUND when none. */
int norc_webauth_session(struct norc_webauth *a, const char *cookie, int64_t now_us,
			 struct norc_webauth_who *who);
void norc_webauth_logout(struct norc_webauth *a, const char *cookie);
/* An API token ("Authorization: Bearer TOKEN"). NORC_ENOTFOUND when unknown. */
int norc_webauth_bearer(const struct norc_webauth *a, const char *token,
			struct norc_webauth_who *who);
/* true when header (may be NULL) is who's CSRF token, or who does not need one. */
bool norc_webauth_csrf_ok(const struct norc_webauth_who *who, const char *header);

/* Tools for `norc web`. A yescrypt hash of password into out. */
int norc_webauth_hash_password(const char *password, char *out, size_t outlen, char *err,
			       size_t errlen);
/* A new random token and the hex SHA-256 to put in the config. */
int norc_webauth_new_token(char token[NORC_WEBAUTH_TOKEN_LEN], char sha256_hex[65]);
/* Set (hash != NULL) or remove (hash == NULL) user name in the users file at path: written
 * whole to a temporary file (mode 0600), then renamed. NORC_ENOTFOUND when removing a user
 * who is not there. */
int norc_webauth_users_file_set(const char *path, const char *name, int role, const char *hash,
				char *err, size_t errlen);

#endif
