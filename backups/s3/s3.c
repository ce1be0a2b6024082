/*
 * s3.c - S3: the log-backup plugin for Amazon S3 and S3-compatible stores.
 *
 * Settings (the `backup` config group): bucket (required); region (us-east-1); endpoint
 * (https://s3.REGION.amazonaws.com; http:// allowed, for tests); path_style (false: requests
 * go to https://BUCKET.s3.REGION.amazonaws.com/KEY; true: ENDPOINT/BUCKET/KEY; when unset,
 * a bucket name with a dot or an endpoint that is an IP address or localhost uses path
 * style, since those have no per-bucket host name); credentials_file and profile (else
 * AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the environment); attempts (4 tries per
 * request); timeout (300 s per try) and connect_timeout (10 s); create_bucket (false: when a
 * put finds no bucket, create it and put again once); tmp_dir (where the compressed copy is
 * made; $TMPDIR or /tmp).
 *
 * Objects are the log gzip-compressed (Content-Encoding: gzip, Content-Type text/plain),
 * compressed into an unlinked temporary file first, so memory stays bounded and the payload
 * hash that SigV4 needs is known before sending. get decodes gzip, zlib (the original Norc's
 * objects) or raw objects. Requests are signed and retried by norc_aws (core/aws.h).
 *
 * Every op runs in a child process the core forks for it (ops may block). Error messages are
 * one line naming the bucket, key and S3 error code; never a credential.
 * Built with the public SDK and norc_aws only, exactly like a third-party plugin.
 */
#include "aws.h"
#include "gz.h"
#include "settings.h"

#include <norc/backup.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NORC_S3_VERSION "1.0"

static const struct norc_host_api *api;
static struct norc_host *host;

struct s3 {
	char *bucket;
	char *region;
	char *base;    /* the URL requests go to: the endpoint, or the bucket's virtual host */
	char *prefix;  /* the path before the key: "" (virtual host) or "/BUCKET" (path style) */
	char *tmp_dir; /* NULL: $TMPDIR or /tmp */
	bool create_bucket;
	char *cred_file, *profile; /* credentials_file, re-read before each put and get */
	struct norc_aws_creds creds;
	struct norc_aws_client client;
	CURL *curl;
};

static const char *const s3_keys[] = {"bucket",     "region",      "endpoint", "path_style",
				      "credentials_file", "profile", "attempts", "timeout",
				      "connect_timeout",  "create_bucket", "tmp_dir", NULL};

static int s3_init(struct norc_host *h, const struct norc_host_api *a, void **state, char *err,
		   size_t errlen)
{
	api = a;
	host = h;
	*state = NULL;
	return norc_aws_global_init("S3", err, errlen);
}

static void s3_fini(void *state)
{
	(void)state;
	norc_aws_global_cleanup();
}

/* ---- messages ---- */

/* "S3 OP s3://BUCKET/KEY: " + fmt, with control characters of the key shown as '?'. */
static int s3_fail(const struct s3 *s, const char *op, const char *key, int rc, char *err,
		   size_t errlen, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static int s3_fail(const struct s3 *s, const char *op, const char *key, int rc, char *err,
		   size_t errlen, const char *fmt, ...)
{
	char shown[512];
	size_t i;
	for (i = 0; key[i] && i + 1 < sizeof(shown); i++)
		shown[i] = (unsigned char)key[i] < 0x20 || key[i] == 0x7f ? '?' : key[i];
	shown[i] = '\0';
	int off = snprintf(err, errlen, "S3 %s s3://%s/%s: ", op, s->bucket, shown);
	if (off >= 0 && (size_t)off < errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err + off, errlen - (size_t)off, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* An HTTP answer that is not what op wanted: the status, S3's code and message, and a hint. */
static int s3_http_fail(const struct s3 *s, const char *op, const char *key,
			const struct norc_aws_response *r, char *err, size_t errlen)
{
	static const struct {
		const char *code, *hint;
	} hints[] = {
		{"SignatureDoesNotMatch", "check the secret key and the region"},
		{"InvalidAccessKeyId", "check the access key"},
		{"AccessDenied", "check the key's permissions on this bucket"},
		{"NoSuchBucket", "create the bucket, or set create_bucket = true"},
		{"AuthorizationHeaderMalformed", "the bucket is in another region: fix region"},
		{"PermanentRedirect", "the bucket is in another region: fix region or endpoint"},
		{"ExpiredToken", "the session token has expired: renew the credentials"},
	};
	char what[400];
	const char *hint = NULL;
	norc_aws_describe(r, what, sizeof(what));
	if (r->tries > 1) {
		size_t n = strlen(what);
		snprintf(what + n, sizeof(what) - n, " (after %d tries)", r->tries);
	}
	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (strcmp(r->code, hints[i].code) == 0)
			hint = hints[i].hint;
	if (!hint && (r->status == 301 || r->status == 307))
		hint = "the bucket is in another region: fix region or endpoint";
	if (!hint && r->status == 403)
		hint = "check the credentials and the key's permissions on this bucket";
	return s3_fail(s, op, key, r->status >= 500 || r->status == 429 ? NORC_EIO : NORC_ERR, err,
		       errlen, "%s%s%s%s", what, hint ? " (" : "", hint ? hint : "",
		       hint ? ")" : "");
}

/* ---- settings ---- */

static bool valid_bucket(const char *b)
{
	size_t n = strlen(b);
	if (n == 0 || n > 255)
		return false;
	for (const char *p = b; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_'))
			return false;
	return true;
}

static bool valid_region(const char *r)
{
	if (!*r)
		return false;
	for (const char *p = r; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	return true;
}

static char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *str_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *s = api->alloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

static void s3_close(void *handle)
{
	struct s3 *s = handle;
	if (!s)
		return;
	if (s->curl)
		curl_easy_cleanup(s->curl);
	norc_aws_creds_free(&s->creds);
	free(s->cred_file);
	free(s->profile);
	api->free(s->bucket);
	api->free(s->region);
	api->free(s->base);
	api->free(s->prefix);
	api->free(s->tmp_dir);
	api->free(s);
}

/* Where requests go: base URL and path prefix, from endpoint and the addressing style. */
static int s3_addressing(struct s3 *s, const struct norc_params *set, char *err, size_t errlen)
{
	const char *ep = api->param_get(set, "endpoint");
	char *endpoint =
		ep ? api->strdup(ep) : str_printf("https://s3.%s.amazonaws.com", s->region);
	size_t n = strlen(endpoint);
	while (n > 0 && endpoint[n - 1] == '/')
		endpoint[--n] = '\0';
	const char *rest = strstr(endpoint, "://");
	if (!rest || !rest[3] ||
	    (strncmp(endpoint, "http://", 7) != 0 && strncmp(endpoint, "https://", 8) != 0)) {
		snprintf(err, errlen,
			 "S3 setting endpoint = '%s' must be an http:// or https:// URL", endpoint);
		api->free(endpoint);
		return NORC_ECONFIG;
	}
	/* Virtual hosts need a DNS name: a dotted bucket cannot match a TLS certificate, and an
	 * IP address or localhost endpoint has no per-bucket names. */
	const char *h = rest + 3;
	size_t hlen = strcspn(h, ":/");
	bool ipv4 = hlen > 0 && strspn(h, "0123456789.") == hlen;
	bool path_style = strchr(s->bucket, '.') != NULL || *h == '[' || ipv4 ||
			  (hlen == 9 && strncmp(h, "localhost", 9) == 0);
	int rc = norc_settings_bool(api, set, "S3", "path_style", path_style, &path_style, err,
				    errlen);
	if (rc != NORC_OK) {
		api->free(endpoint);
		return rc;
	}
	if (path_style) {
		s->base = endpoint;
		s->prefix = str_printf("/%s", s->bucket);
	} else {
		s->base = str_printf("%.*s%s.%s", (int)(rest + 3 - endpoint), endpoint, s->bucket,
				     rest + 3);
		s->prefix = api->strdup("");
		api->free(endpoint);
	}
	return NORC_OK;
}

static int s3_open(void *state, const struct norc_params *set, void **handle, char *err,
		   size_t errlen)
{
	(void)state;
	*handle = NULL;
	int rc = norc_settings_check_keys(api, set, "S3", s3_keys, err, errlen);
	if (rc != NORC_OK)
		return rc;
	const char *bucket = api->param_get(set, "bucket");
	const char *region = api->param_get(set, "region");
	if (!bucket || !*bucket) {
		snprintf(err, errlen,
			 "S3 needs a bucket: set bucket = \"NAME\" in the backup settings");
		return NORC_ECONFIG;
	}
	if (!valid_bucket(bucket)) {
		snprintf(err, errlen, "S3 setting bucket = '%s' is not a valid bucket name",
			 bucket);
		return NORC_ECONFIG;
	}
	if (region && !valid_region(region)) {
		snprintf(err, errlen, "S3 setting region = '%s' is not a region name (like "
			 "eu-west-1)", region);
		return NORC_ECONFIG;
	}
	struct s3 *s = api->alloc(sizeof(*s));
	memset(s, 0, sizeof(*s));
	s->bucket = api->strdup(bucket);
	s->region = api->strdup(region ? region : "us-east-1");
	const char *tmp = api->param_get(set, "tmp_dir");
	s->tmp_dir = tmp && *tmp ? api->strdup(tmp) : NULL;
	long attempts, timeout, connect_timeout;
	if ((rc = s3_addressing(s, set, err, errlen)) != NORC_OK ||
	    (rc = norc_settings_bool(api, set, "S3", "create_bucket", false, &s->create_bucket,
				     err, errlen)) != NORC_OK ||
	    (rc = norc_settings_long(api, set, "S3", "attempts", 4, 1, 20, &attempts, err,
				     errlen)) != NORC_OK ||
	    (rc = norc_settings_long(api, set, "S3", "timeout", 300, 1, 86400, &timeout, err,
				     errlen)) != NORC_OK ||
	    (rc = norc_settings_long(api, set, "S3", "connect_timeout", 10, 1, 3600,
				     &connect_timeout, err, errlen)) != NORC_OK) {
		s3_close(s);
		return rc;
	}
	char why[768];
	const char *cf = api->param_get(set, "credentials_file"), *pr = api->param_get(set, "profile");
	s->cred_file = cf ? strdup(cf) : NULL;
	s->profile = pr ? strdup(pr) : NULL;
	rc = norc_aws_creds_load(cf, pr, &s->creds, why, sizeof(why));
	if (rc != NORC_OK) {
		snprintf(err, errlen, "S3: %s", why);
		s3_close(s);
		return rc;
	}
	s->curl = curl_easy_init();
	if (!s->curl) {
		snprintf(err, errlen, "S3: libcurl could not create a handle");
		s3_close(s);
		return NORC_ENOMEM;
	}
	s->client = (struct norc_aws_client){
		.endpoint = s->base,
		.region = s->region,
		.service = "s3",
		.creds = &s->creds,
		.attempts = (int)attempts,
		.timeout_s = timeout,
		.connect_timeout_s = connect_timeout,
		.user_agent = "norc-s3/" NORC_S3_VERSION,
	};
	*handle = s;
	return NORC_OK;
}

/* ---- requests ---- */

/* The encoded path of key (caller frees with free), or NULL with err filled. */
static char *s3_path(const struct s3 *s, const char *op, const char *key, char *err,
		     size_t errlen)
{
	if (!*key || strlen(key) > 1024) {
		s3_fail(s, op, key, NORC_EINVAL, err, errlen, "a key must be 1 to 1024 bytes");
		return NULL;
	}
	char *enc = norc_aws_uri_encode(key, true);
	if (!enc) {
		s3_fail(s, op, key, NORC_ENOMEM, err, errlen, "out of memory");
		return NULL;
	}
	size_t len = strlen(s->prefix) + strlen(enc) + 2;
	char *path = malloc(len);
	if (path)
		snprintf(path, len, "%s/%s", s->prefix, enc);
	else
		s3_fail(s, op, key, NORC_ENOMEM, err, errlen, "out of memory");
	free(enc);
	return path;
}

static int s3_send(struct s3 *s, const char *op, const char *key,
		   const struct norc_aws_request *req, struct norc_aws_response *resp, char *err,
		   size_t errlen)
{
	char why[768];
	int rc = norc_aws_request(s->curl, &s->client, req, resp, why, sizeof(why));
	if (rc != NORC_OK)
		return s3_fail(s, op, key, rc, err, errlen, "%s", why);
	return NORC_OK;
}

static bool ok_status(long status) { return status >= 200 && status < 300; }

/* PUT the bucket itself (create_bucket). An existing bucket of ours counts as created. */
static int s3_make_bucket(struct s3 *s, const char *key, char *err, size_t errlen)
{
	char body[256];
	int n = 0;
	if (strcmp(s->region, "us-east-1") != 0) /* elsewhere S3 wants the region in the body */
		n = snprintf(body, sizeof(body),
			     "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/"
			     "2006-03-01/\"><LocationConstraint>%s</LocationConstraint>"
			     "</CreateBucketConfiguration>",
			     s->region);
	const char *hdrs[] = {"Content-Type: application/xml"};
	struct norc_aws_request req = {
		.method = "PUT",
		.path = *s->prefix ? s->prefix : "/",
		.headers = n ? hdrs : NULL,
		.nheaders = n ? 1 : 0,
		.body = n ? body : NULL,
		.body_len = (size_t)n,
	};
	struct norc_aws_response resp;
	int rc = s3_send(s, "create bucket for", key, &req, &resp, err, errlen);
	if (rc != NORC_OK)
		return rc;
	if (!ok_status(resp.status) && strcmp(resp.code, "BucketAlreadyOwnedByYou") != 0)
		return s3_http_fail(s, "create bucket for", key, &resp, err, errlen);
	api->log(host, NORC_LOG_INFO, "S3: created bucket %s (create_bucket = true)", s->bucket);
	return NORC_OK;
}

static int s3_hash_tap(void *arg, const void *p, size_t n)
{
	return norc_aws_sha256_update(arg, p, n);
}

/* Compress local_path into a new temporary file: *fd (caller closes), its size and hash. */
static int s3_compress(struct s3 *s, const char *local_path, const char *key, int *fd,
		       uint64_t *size, char sha[NORC_AWS_SHA256_HEX], char *err, size_t errlen)
{
	char why[512];
	int src = open(local_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (src < 0)
		return s3_fail(s, "put", key, errno == ENOENT ? NORC_ENOTFOUND : NORC_EIO, err,
			       errlen, "cannot open %s: %s", local_path, strerror(errno));
	int rc = norc_gz_tmpfile(s->tmp_dir, fd, why, sizeof(why));
	if (rc != NORC_OK) {
		close(src);
		return s3_fail(s, "put", key, rc, err, errlen, "%s", why);
	}
	struct norc_aws_sha256 h;
	rc = norc_aws_sha256_begin(&h);
	if (rc == NORC_OK)
		rc = norc_gz_compress(src, *fd, s3_hash_tap, &h, size, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "SHA-256 failed");
	int rc2 = norc_aws_sha256_end(&h, rc == NORC_OK ? sha : NULL);
	close(src);
	if (rc == NORC_OK && rc2 != NORC_OK) {
		rc = rc2;
		snprintf(why, sizeof(why), "SHA-256 failed");
	}
	if (rc != NORC_OK) {
		close(*fd);
		*fd = -1;
		return s3_fail(s, "put", key, rc, err, errlen, "%s (%s)", why, local_path);
	}
	return NORC_OK;
}

/* A credentials_file may be rotated while the daemon runs (STS tokens): each batch of
 * uploads runs in a fresh child, so reading it again here costs one small file per request.
 * A read that fails keeps the credentials loaded before. */
static void refresh_creds(struct s3 *s)
{
	if (!s->cred_file)
		return;
	struct norc_aws_creds fresh = {0};
	char why[256];
	if (norc_aws_creds_load(s->cred_file, s->profile, &fresh, why, sizeof(why)) == NORC_OK) {
		norc_aws_creds_free(&s->creds);
		s->creds = fresh;
	} else {
		norc_aws_creds_free(&fresh);
	}
}

static int s3_put(void *handle, const char *local_path, const char *key, char *err,
		  size_t errlen)
{
	struct s3 *s = handle;
	refresh_creds(s);
	char sha[NORC_AWS_SHA256_HEX];
	uint64_t size = 0;
	int fd = -1;
	char *path = s3_path(s, "put", key, err, errlen);
	if (!path)
		return NORC_EINVAL;
	int rc = s3_compress(s, local_path, key, &fd, &size, sha, err, errlen);
	if (rc != NORC_OK) {
		free(path);
		return rc;
	}
	const char *hdrs[] = {"Content-Type: text/plain; charset=utf-8", "Content-Encoding: gzip"};
	struct norc_aws_request req = {
		.method = "PUT",
		.path = path,
		.headers = hdrs,
		.nheaders = 2,
		.body_is_fd = true,
		.body_fd = fd,
		.body_fd_size = size,
		.body_sha256 = sha,
	};
	struct norc_aws_response resp;
	for (int round = 0;; round++) {
		rc = s3_send(s, "put", key, &req, &resp, err, errlen);
		if (rc != NORC_OK || ok_status(resp.status))
			break;
		if (round == 0 && s->create_bucket && strcmp(resp.code, "NoSuchBucket") == 0) {
			rc = s3_make_bucket(s, key, err, errlen);
			if (rc == NORC_OK)
				continue;
			break;
		}
		rc = s3_http_fail(s, "put", key, &resp, err, errlen);
		break;
	}
	close(fd);
	free(path);
	return rc;
}

static int s3_decode_sink(void *arg, const void *data, size_t n, char *err, size_t errlen)
{
	return norc_gz_decoder_write(arg, data, n, err, errlen);
}

static int s3_get(void *handle, const char *key, int fd, char *err, size_t errlen)
{
	struct s3 *s = handle;
	refresh_creds(s);
	char *path = s3_path(s, "get", key, err, errlen);
	if (!path)
		return NORC_EINVAL;
	struct norc_gz_decoder dec;
	int rc = norc_gz_decoder_init(&dec, fd);
	if (rc != NORC_OK) {
		norc_gz_decoder_free(&dec);
		free(path);
		return s3_fail(s, "get", key, rc, err, errlen, "out of memory");
	}
	struct norc_aws_request req = {
		.method = "GET", .path = path, .sink = s3_decode_sink, .sink_arg = &dec};
	struct norc_aws_response resp;
	rc = s3_send(s, "get", key, &req, &resp, err, errlen);
	if (rc == NORC_OK && ok_status(resp.status)) {
		char why[512];
		rc = norc_gz_decoder_finish(&dec, why, sizeof(why));
		if (rc != NORC_OK)
			s3_fail(s, "get", key, rc, err, errlen, "%s", why);
	} else if (rc == NORC_OK && resp.status == 404 && strcmp(resp.code, "NoSuchBucket") != 0) {
		rc = s3_fail(s, "get", key, NORC_ENOTFOUND, err, errlen, "no such object");
	} else if (rc == NORC_OK) {
		rc = s3_http_fail(s, "get", key, &resp, err, errlen);
	}
	norc_gz_decoder_free(&dec);
	free(path);
	return rc;
}

static int s3_exists(void *handle, const char *key, bool *exists, char *err, size_t errlen)
{
	struct s3 *s = handle;
	char *path = s3_path(s, "exists", key, err, errlen);
	if (!path)
		return NORC_EINVAL;
	struct norc_aws_request req = {.method = "HEAD", .path = path};
	struct norc_aws_response resp;
	int rc = s3_send(s, "exists", key, &req, &resp, err, errlen);
	free(path);
	if (rc != NORC_OK)
		return rc;
	if (ok_status(resp.status) || resp.status == 404) {
		*exists = resp.status != 404;
		return NORC_OK;
	}
	return s3_http_fail(s, "exists", key, &resp, err, errlen);
}

static int s3_del(void *handle, const char *key, char *err, size_t errlen)
{
	struct s3 *s = handle;
	char *path = s3_path(s, "del", key, err, errlen);
	if (!path)
		return NORC_EINVAL;
	struct norc_aws_request req = {.method = "DELETE", .path = path};
	struct norc_aws_response resp;
	int rc = s3_send(s, "del", key, &req, &resp, err, errlen);
	free(path);
	if (rc != NORC_OK)
		return rc;
	if (ok_status(resp.status) || (resp.status == 404 && strcmp(resp.code, "NoSuchKey") == 0))
		return NORC_OK; /* deleting what is not there is done */
	return s3_http_fail(s, "del", key, &resp, err, errlen);
}

static const struct norc_backup_ops s3_ops = {
	.struct_size = sizeof(struct norc_backup_ops),
	.open = s3_open,
	.close = s3_close,
	.put = s3_put,
	.get = s3_get,
	.exists = s3_exists,
	.del = s3_del,
};

NORC_PLUGIN_DEFINE(NORC_KIND_BACKUP, 0, "S3", NORC_S3_VERSION,
		   "log backup to Amazon S3 or an S3-compatible store (gzip objects, SigV4)",
		   s3_init, s3_fini, &s3_ops);
