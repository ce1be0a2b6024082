/*
 * aws.h - AWS Signature V4 requests over libcurl: the one S3/SQS request helper that the S3
 * backup plugin and the SQS queue share (static library norc_aws, linked into plugins; it
 * does not use norc_core, only <norc/plugin.h> for the NORC_E* codes).
 *
 * libcurl 7.88 signs what it sends, not what AWS canonicalises, so this helper always sends
 * canonical requests (shared/reference/env.md 5.6): the query is built already sorted and
 * encoded (norc_aws_canonical_query), paths are passed already encoded, x-amz-content-sha256
 * is always sent, and no "Name:" header-removal entries are ever used.
 *
 * Memory: strings returned here are malloc'd (caller frees with free); everything passed in
 * is borrowed for the call. Secrets are never logged or written into error messages.
 * Blocking: norc_aws_request blocks (retries sleep), so call it from a child process (backup
 * ops) or a worker, never from a daemon's loop.
 */
#ifndef NORC_AWS_H
#define NORC_AWS_H

#include <norc/plugin.h>

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- encoding ---- */

/* Percent-encode every byte of s except A-Za-z0-9-_.~ (and '/' when keep_slash), uppercase
 * hex. NULL only when out of memory. Caller frees with free. */
char *norc_aws_uri_encode(const char *s, bool keep_slash);

struct norc_aws_param {
	const char *name;  /* raw (not encoded); borrowed */
	const char *value; /* raw; NULL or "" is written as "name=" */
};

/* The canonical query string of n parameters: names and values encoded, sorted by encoded
 * name then value, "name=" for empty values, joined with '&'; "" when n is 0. NULL only when
 * out of memory. Caller frees with free. */
char *norc_aws_canonical_query(const struct norc_aws_param *params, size_t n);

/* ---- SHA-256 (libcrypto EVP), lowercase hex ---- */

#define NORC_AWS_SHA256_HEX 65 /* 64 hex digits and the NUL */

/* The hash of n bytes at p into hex. NORC_OK or NORC_ERR (libcrypto failed). */
int norc_aws_sha256_mem(const void *p, size_t n, char hex[NORC_AWS_SHA256_HEX]);
/* The hash of the whole file open at fd (read with pread from offset 0 in 64 KiB blocks; the
 * file offset is not used). *size (may be NULL) gets its length. NORC_OK, NORC_EIO (read
 * failed: errno is set) or NORC_ERR. */
int norc_aws_sha256_fd(int fd, char hex[NORC_AWS_SHA256_HEX], uint64_t *size);

/* A running hash over bytes fed in pieces. begin, any number of update, then end (which also
 * frees it; call end even after a failure, with hex NULL to just free). */
struct norc_aws_sha256 {
	void *ctx; /* EVP_MD_CTX; owned */
};
int norc_aws_sha256_begin(struct norc_aws_sha256 *h);
int norc_aws_sha256_update(struct norc_aws_sha256 *h, const void *p, size_t n);
int norc_aws_sha256_end(struct norc_aws_sha256 *h, char hex[NORC_AWS_SHA256_HEX]);

/* ---- credentials ---- */

struct norc_aws_creds {
	char *access_key;    /* owned */
	char *secret_key;    /* owned */
	char *session_token; /* owned; NULL when none */
};

/* Load credentials: from credentials_file (an AWS shared-credentials INI file: [profile]
 * sections with aws_access_key_id, aws_secret_access_key and optionally aws_session_token;
 * profile NULL means "default") when it is non-NULL, else from the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN). On failure err gets one
 * line naming the setting and the fix (never a secret) and NORC_ECONFIG (or NORC_ENOMEM) is
 * returned. Free *out with norc_aws_creds_free, also after a failure. */
int norc_aws_creds_load(const char *credentials_file, const char *profile,
			struct norc_aws_creds *out, char *err, size_t errlen);
/* Zero the secrets, free them and NULL the fields. NULL ok. */
void norc_aws_creds_free(struct norc_aws_creds *c);

/* ---- requests ---- */

/* Where requests go and how they are signed and retried. All borrowed. */
struct norc_aws_client {
	const char *endpoint; /* "https://host[:port]" (or http://), no trailing '/' */
	const char *region;   /* "us-east-1" */
	const char *service;  /* "s3", "sqs" */
	const struct norc_aws_creds *creds;
	int attempts;            /* total tries per request, >= 1 */
	long timeout_s;          /* per try, whole transfer */
	long connect_timeout_s;  /* per try */
	const char *user_agent;  /* NULL: "norc" */
};

/* Receives a 2xx response's body in pieces. Return NORC_OK, or a negative NORC_E* (with err
 * filled) to abort the request (it is then not retried). */
typedef int (*norc_aws_sink_fn)(void *arg, const void *data, size_t n, char *err,
				size_t errlen);

struct norc_aws_request {
	const char *method; /* "GET", "HEAD", "PUT", "POST", "DELETE" */
	const char *path;   /* already URI-encoded, starts with '/' */
	const struct norc_aws_param *query; /* raw parameters; encoded and sorted here */
	size_t nquery;
	const char *const *headers; /* extra "Name: value" lines (value never empty), signed */
	size_t nheaders;
	/* The body (not for GET and HEAD): none, n bytes in memory, or a whole file read from
	 * offset 0 with pread. */
	const void *body;
	size_t body_len;
	bool body_is_fd;
	int body_fd;
	uint64_t body_fd_size;
	const char *body_sha256; /* hex sha256 of the body when known; NULL: computed here */
	/* 2xx bodies go to sink when set (a GET that drops after some bytes is resumed with
	 * Range and If-Match on the next try); otherwise into resp->body (bounded). */
	norc_aws_sink_fn sink;
	void *sink_arg;
};

#define NORC_AWS_BODY_MAX 4096

struct norc_aws_response {
	long status;                   /* HTTP status of the last try */
	char body[NORC_AWS_BODY_MAX];  /* the first bytes of a body not given to a sink, NUL'd */
	size_t body_len;
	char code[64];                 /* S3 XML <Code> of an error body, or "" */
	char message[256];             /* its <Message>, on one line, or "" */
	char etag[128];                /* the ETag response header, or "" */
	int tries;                     /* how many tries were made */
};

/*
 * Send req, signed, on the easy handle curl (reset first; its connections are reused), with
 * retries: connection errors, 5xx, 429 and the S3 codes SlowDown and RequestTimeout are
 * retried up to client->attempts tries in all, sleeping 0.5 s, 1 s, 2 s ... (at most 20 s)
 * between them; other statuses are final. Returns NORC_OK when an HTTP response arrived,
 * whatever its status (see resp), or NORC_ECONN / NORC_ETIMEDOUT / NORC_EIO / NORC_ENOMEM /
 * a sink's code with err filled (one line, no secrets). Not thread-safe per handle.
 */
int norc_aws_request(CURL *curl, const struct norc_aws_client *client,
		     const struct norc_aws_request *req, struct norc_aws_response *resp, char *err,
		     size_t errlen);

/* "HTTP 403 SignatureDoesNotMatch: message" (or "HTTP 404" alone when no code), into buf. */
void norc_aws_describe(const struct norc_aws_response *resp, char *buf, size_t len);

/* The backoff before try number n+1 (n >= 1), in milliseconds: 500 * 2^(n-1), at most 20000. */
long norc_aws_backoff_ms(int n);

/* A plugin's init and fini: libcurl's global state (reference-counted by libcurl, so every
 * plugin using norc_aws calls them). NORC_ERR with "WHO: libcurl failed to initialise". */
int norc_aws_global_init(const char *who, char *err, size_t errlen);
void norc_aws_global_cleanup(void);

#endif
