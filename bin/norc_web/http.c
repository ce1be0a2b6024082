/*
 * http.c - norc_web's HTTP side: gathering a request (body up to NORC_WEB_MAX_BODY), finding
 * who sends it (API token, session cookie, or anonymous), login/logout/session, the static
 * page, and the response helpers every handler uses (JSON, errors, text, files), each with
 * the same security headers.
 */
#include "web.h"
#include "clock.h"
#include "log.h"
#include "mem.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Headers on every response: no sniffing, no framing, nothing loaded from elsewhere. */
static enum MHD_Result queue(struct norc_web_req *r, unsigned int status, struct MHD_Response *resp,
			     bool cacheable)
{
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Content-Security-Policy",
				"default-src 'self'; img-src 'self' data:; style-src 'self'; "
				"frame-ancestors 'none'; form-action 'self'; base-uri 'none'");
	MHD_add_response_header(resp, "Cache-Control", cacheable ? "no-cache" : "no-store");
	enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result norc_web_text(struct norc_web_req *r, unsigned int status, const char *type,
			      const char *text, size_t len)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
	if (resp)
		MHD_add_response_header(resp, "Content-Type", type);
	return queue(r, status, resp, false);
}

enum MHD_Result norc_web_json(struct norc_web_req *r, unsigned int status, json_t *body)
{
	char *s = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(body);
	if (!s)
		return MHD_NO;
	size_t n = strlen(s);
	struct MHD_Response *resp = MHD_create_response_from_buffer(n, s, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(s);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	return queue(r, status, resp, false);
}

enum MHD_Result norc_web_error(struct norc_web_req *r, unsigned int status, const char *fmt, ...)
{
	char msg[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return norc_web_json(r, status, json_pack("{s:s}", "error", msg));
}

enum MHD_Result norc_web_fd(struct norc_web_req *r, int fd, uint64_t offset, uint64_t size,
			    const char *type, const char *source)
{
	struct MHD_Response *resp = MHD_create_response_from_fd_at_offset64(size, fd, offset);
	if (!resp) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	if (source)
		MHD_add_response_header(resp, "X-Norc-Log-Source", source);
	return queue(r, MHD_HTTP_OK, resp, source == NULL);
}

const char *norc_web_arg(struct norc_web_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

bool norc_web_body_json(struct norc_web_req *r, json_t **out, enum MHD_Result *result)
{
	*out = NULL;
	if (!r->body_len) {
		*out = json_object();
		return true;
	}
	json_error_t je;
	json_t *j = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
	if (!j || !json_is_object(j)) {
		*result = norc_web_error(r, MHD_HTTP_BAD_REQUEST,
					 "the request body must be a JSON object%s%s",
					 j ? "" : ": ", j ? "" : je.text);
		json_decref(j);
		return false;
	}
	*out = j;
	return true;
}

static const char *content_type(const char *path)
{
	static const char *const map[][2] = {
		{".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
		{".css", "text/css; charset=utf-8"},   {".svg", "image/svg+xml"},
		{".png", "image/png"},                 {".ico", "image/x-icon"},
		{".json", "application/json"},         {".txt", "text/plain; charset=utf-8"},
	};
	const char *dot = strrchr(path, '.');
	for (size_t i = 0; dot && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(dot, map[i][0]) == 0)
			return map[i][1];
	return "application/octet-stream";
}

/* A file of web.root: only plain names and sub-folders, no dot segments, no symlinks out. */
static enum MHD_Result static_file(struct norc_web_req *r)
{
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
		return norc_web_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "%s %s: only GET is served "
				      "here", r->method, r->url);
	const char *rel = strcmp(r->url, "/") == 0 ? "/index.html" : r->url;
	bool ok = rel[0] == '/' && strlen(rel) < 256 && !strstr(rel, "/.") && !strstr(rel, "//");
	for (const char *p = rel; ok && *p; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		     (*p >= '0' && *p <= '9') || *p == '/' || *p == '.' || *p == '-' || *p == '_';
	if (!ok)
		return norc_web_error(r, MHD_HTTP_NOT_FOUND, "no such page: %s", r->url);
	char path[PATH_MAX], real[PATH_MAX];
	snprintf(path, sizeof(path), "%s%s", r->w->cfg->web.root, rel);
	size_t rl = strlen(r->w->cfg->web.root);
	int fd = -1;
	struct stat st;
	if (realpath(path, real) && strncmp(real, r->w->cfg->web.root, rl) == 0 &&
	    real[rl] == '/')
		fd = open(real, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return norc_web_error(r, MHD_HTTP_NOT_FOUND, "no such page: %s", r->url);
	}
	return norc_web_fd(r, fd, 0, (uint64_t)st.st_size, content_type(real), NULL);
}

static void set_client(struct norc_web_req *r)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(r->client, sizeof(r->client), "?");
	if (!ci || !ci->client_addr)
		return;
	socklen_t len = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							       : sizeof(struct sockaddr_in);
	if (getnameinfo(ci->client_addr, len, r->client, sizeof(r->client), NULL, 0,
			NI_NUMERICHOST) != 0)
		snprintf(r->client, sizeof(r->client), "?");
}

/* Who asks: a token (a wrong one is refused outright), a session, or anonymous. false when
 * an answer was already sent (*result). */
static bool identify(struct norc_web_req *r, enum MHD_Result *result)
{
	struct norc_web *w = r->w;
	const char *authz = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
							MHD_HTTP_HEADER_AUTHORIZATION);
	if (authz) {
		if (strncasecmp(authz, "Bearer ", 7) != 0 ||
		    norc_webauth_bearer(w->auth, authz + 7, &r->who) != NORC_OK) {
			NORC_WARN("web: %s: refused an unknown API token", r->client);
			*result = norc_web_error(r, MHD_HTTP_UNAUTHORIZED, "the API token is not "
						 "valid; use Authorization: Bearer TOKEN with a token "
						 "from `norc web token`");
			return false;
		}
		return true;
	}
	const char *cookie = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "norc_session");
	if (cookie && norc_webauth_session(w->auth, cookie, norc_clock_now_us(), &r->who) == NORC_OK)
		return true;
	r->who = (struct norc_webauth_who){"anonymous", norc_webauth_anonymous_role(w->auth), NULL,
					   false};
	return true;
}

static enum MHD_Result with_cookie(struct norc_web_req *r, json_t *body, const char *cookie,
				   int max_age)
{
	char *s = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(body);
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(s), s,
								    MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(s);
		return MHD_NO;
	}
	char c[256];
	snprintf(c, sizeof(c), "norc_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s",
		 cookie, max_age, r->w->tls ? "; Secure" : "");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, c);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	return queue(r, MHD_HTTP_OK, resp, false);
}

static enum MHD_Result login(struct norc_web_req *r)
{
	enum MHD_Result res;
	json_t *b;
	if (!norc_web_body_json(r, &b, &res))
		return res;
	const char *user = json_string_value(json_object_get(b, "user"));
	const char *pass = json_string_value(json_object_get(b, "password"));
	if (!user || !pass) {
		json_decref(b);
		return norc_web_error(r, MHD_HTTP_BAD_REQUEST, "give {\"user\": NAME, "
				      "\"password\": PASSWORD}");
	}
	char cookie[NORC_WEBAUTH_ID_LEN];
	int retry = 0;
	int rc = norc_webauth_login(r->w->auth, r->client, user, pass, norc_clock_now_us(), cookie,
				    &r->who, &retry);
	if (rc == NORC_EBUSY) {
		NORC_WARN("web: %s: login as '%.64s' refused: too many failed logins (%d s to wait)",
			  r->client, user, retry);
		json_decref(b);
		struct MHD_Response *resp;
		char *s = norc_xasprintf("{\"error\":\"too many failed logins; try again in %d s\"}",
					 retry);
		resp = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
		char ra[24];
		snprintf(ra, sizeof(ra), "%d", retry);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
		MHD_add_response_header(resp, "Content-Type", "application/json");
		return queue(r, MHD_HTTP_TOO_MANY_REQUESTS, resp, false);
	}
	if (rc != NORC_OK) {
		NORC_WARN("web: %s: failed login as '%.64s'", r->client, user);
		json_decref(b);
		return norc_web_error(r, MHD_HTTP_UNAUTHORIZED, "wrong user name or password");
	}
	NORC_INFO("web: %s: %s (%s) logged in", r->client, r->who.user,
		  norc_webauth_role_name(r->who.role));
	json_decref(b);
	return with_cookie(r, json_pack("{s:s, s:s, s:s}", "user", r->who.user, "role",
					norc_webauth_role_name(r->who.role), "csrf", r->who.csrf),
			   cookie, r->w->cfg->web.session_max_s);
}

static enum MHD_Result route(struct norc_web_req *r)
{
	enum MHD_Result res;
	if (r->too_big)
		return norc_web_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "the request body is larger "
				      "than %d bytes", NORC_WEB_MAX_BODY);
	bool post = strcmp(r->method, "POST") == 0;
	bool api = strncmp(r->url, "/api/", 5) == 0;
	/* JSON only: a form on another site cannot send it without a CORS preflight, which is
	 * never answered (so no login CSRF and no cross-site POST at all) */
	const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_TYPE);
	if (post && api && (!ct || strncasecmp(ct, "application/json", 16) != 0 ||
			    (ct[16] && ct[16] != ';' && ct[16] != ' ')))
		return norc_web_error(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "POST %s: send the body "
				      "as Content-Type: application/json", r->url);
	if (strcmp(r->url, "/api/login") == 0) {
		if (!post)
			return norc_web_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "log in with POST");
		return login(r);
	}
	if (!api && strcmp(r->url, "/metrics") != 0)
		return static_file(r);
	if (!identify(r, &res))
		return res;
	if (strcmp(r->url, "/api/session") == 0) {
		if (r->who.role == NORC_ROLE_NONE)
			return norc_web_error(r, MHD_HTTP_UNAUTHORIZED, "not logged in");
		return norc_web_json(r, MHD_HTTP_OK,
				     json_pack("{s:s, s:s, s:s?}", "user", r->who.user, "role",
					       norc_webauth_role_name(r->who.role), "csrf",
					       r->who.csrf));
	}
	if (r->who.role == NORC_ROLE_NONE)
		return norc_web_error(r, MHD_HTTP_UNAUTHORIZED, "log in first (POST /api/login), "
				      "or send an API token");
	if (post && !norc_webauth_csrf_ok(&r->who, MHD_lookup_connection_value(
							   r->conn, MHD_HEADER_KIND, "X-CSRF-Token"))) {
		NORC_WARN("web: %s: %s: POST %s refused: missing or wrong CSRF token", r->client,
			  r->who.user, r->url);
		return norc_web_error(r, MHD_HTTP_FORBIDDEN, "missing or wrong X-CSRF-Token "
				      "header; send the csrf value from /api/session");
	}
	if (strcmp(r->url, "/api/logout") == 0) {
		if (!post)
			return norc_web_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "log out with POST");
		norc_webauth_logout(r->w->auth, MHD_lookup_connection_value(r->conn,
									    MHD_COOKIE_KIND,
									    "norc_session"));
		return with_cookie(r, json_object(), "", 0);
	}
	if (strcmp(r->url, "/metrics") == 0)
		return norc_web_metrics(r);
	if (!post && strcmp(r->method, "GET") != 0)
		return norc_web_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "%s %s: use GET or POST",
				      r->method, r->url);
	return norc_web_api(r, r->url + 4); /* "/executors..." */
}

enum MHD_Result norc_web_handler(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload,
				 size_t *upload_size, void **con_cls)
{
	(void)version;
	struct norc_web_req *r = *con_cls;
	if (!r) {
		r = norc_xcalloc(1, sizeof(*r));
		r->w = cls;
		r->conn = conn;
		r->method = method;
		r->url = url;
		set_client(r);
		*con_cls = r;
		/* a declared length over the limit: the 413 at once, before any body is read */
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > NORC_WEB_MAX_BODY) {
			r->too_big = true;
			return route(r);
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (r->too_big || r->body_len + *upload_size > NORC_WEB_MAX_BODY) {
			r->too_big = true; /* a chunked body: dropped as it comes, 413 at its end */
			*upload_size = 0;
			return MHD_YES;
		}
		r->body = norc_xrealloc(r->body, r->body_len + *upload_size + 1);
		memcpy(r->body + r->body_len, upload, *upload_size);
		r->body_len += *upload_size;
		r->body[r->body_len] = '\0';
		*upload_size = 0;
		return MHD_YES;
	}
	return route(r);
}

void norc_web_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct norc_web_req *r = *con_cls;
	if (!r)
		return;
	free(r->body);
	free(r);
	*con_cls = NULL;
}
