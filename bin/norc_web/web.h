/*
 * web.h - norc_web's parts: the HTTP side (http.c: requests, who is asking, static files,
 * responses), the JSON API (api.c) and /metrics (metrics.c). main.c owns the event loop.
 */
#ifndef NORC_WEB_H
#define NORC_WEB_H

#include "config.h"
#include "db.h"
#include "webauth.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NORC_WEB_MAX_BODY 16384 /* bytes of a request body (JSON); more is a 413 */

/* The daemon's state, shared by every request (one thread). */
struct norc_web {
	struct norc_config *cfg;
	struct norc_db *db;
	struct norc_webauth *auth;
	bool tls;
	struct norc_web_metrics *metrics;
};

/* One request. body is NUL-terminated; too_big when it passed NORC_WEB_MAX_BODY. */
struct norc_web_req {
	struct norc_web *w;
	struct MHD_Connection *conn;
	const char *method;
	const char *url;
	char *body;
	size_t body_len;
	bool too_big;
	char client[64]; /* the peer's address */
	struct norc_webauth_who who;
};

/* Responses. Each queues one response on the connection and returns MHD's result. */
enum MHD_Result norc_web_json(struct norc_web_req *r, unsigned int status, json_t *body); /* steals */
enum MHD_Result norc_web_error(struct norc_web_req *r, unsigned int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A response of len bytes of text (copied), or of fd from offset (fd is taken). */
enum MHD_Result norc_web_text(struct norc_web_req *r, unsigned int status, const char *type,
			      const char *text, size_t len);
enum MHD_Result norc_web_fd(struct norc_web_req *r, int fd, uint64_t offset, uint64_t size,
			    const char *type, const char *source);
/* A query parameter (NULL when absent). */
const char *norc_web_arg(struct norc_web_req *r, const char *name);
/* The request body as a JSON object: *out is new, or NULL with a 400 already sent
 * (*result holds MHD's result). An empty body is {}. */
bool norc_web_body_json(struct norc_web_req *r, json_t **out, enum MHD_Result *result);

/* api.c: /api/... (everything but login, logout and session, which http.c answers). */
enum MHD_Result norc_web_api(struct norc_web_req *r, const char *path);

/* metrics.c: GET /metrics. */
struct norc_web_metrics *norc_web_metrics_new(int64_t now_us);
void norc_web_metrics_free(struct norc_web_metrics *m);
enum MHD_Result norc_web_metrics(struct norc_web_req *r);

/* http.c: MHD's access handler and completion callback. */
enum MHD_Result norc_web_handler(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload,
				 size_t *upload_size, void **con_cls);
void norc_web_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			enum MHD_RequestTerminationCode toe);

#endif
