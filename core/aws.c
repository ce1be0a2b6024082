/*
 * aws.c - AWS Signature V4 requests over libcurl (see aws.h): encoding, the canonical query,
 * SHA-256, credentials, and the request loop with retries.
 *
 * libcurl 7.88 computes the signature itself (CURLOPT_AWS_SIGV4) but signs the URL exactly as
 * given and does not add x-amz-content-sha256, so every request here is built canonical:
 * query sorted and encoded, path pre-encoded (CURLOPT_PATH_AS_IS so curl never rewrites dot
 * segments of a key), the payload hash always sent (curl then signs with it), and headers only
 * ever added, never removed with "Name:" (curl would sign a header it then does not send).
 * The Expect: 100-continue curl adds to uploads is not among the signed headers, which is
 * harmless: AWS only checks signed headers.
 *
 * Secrets: the keys reach curl through CURLOPT_USERNAME/CURLOPT_PASSWORD only (so a ':' in a
 * secret works), are zeroed when freed, and never appear in a message.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* explicit_bzero */
#endif

#include "aws.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define BLOCK (64 * 1024)

/* ---- small helpers ---- */

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

/* ---- encoding ---- */

char *norc_aws_uri_encode(const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = malloc(3 * n + 1);
	if (!out)
		return NULL;
	char *o = out;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (unreserved(*p) || (keep_slash && *p == '/')) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

struct enc_pair {
	char *name, *value;
};

static int pair_cmp(const void *a, const void *b)
{
	const struct enc_pair *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

char *norc_aws_canonical_query(const struct norc_aws_param *params, size_t n)
{
	struct enc_pair *pairs = calloc(n ? n : 1, sizeof(*pairs));
	char *out = NULL;
	size_t len = 1, i;
	if (!pairs)
		return NULL;
	for (i = 0; i < n; i++) {
		pairs[i].name = norc_aws_uri_encode(params[i].name, false);
		pairs[i].value = norc_aws_uri_encode(params[i].value ? params[i].value : "", false);
		if (!pairs[i].name || !pairs[i].value)
			goto done;
		len += strlen(pairs[i].name) + strlen(pairs[i].value) + 2;
	}
	qsort(pairs, n, sizeof(*pairs), pair_cmp);
	out = malloc(len);
	if (!out)
		goto done;
	size_t off = 0;
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(out + off, len - off, "%s%s=%s", i ? "&" : "",
					pairs[i].name, pairs[i].value);
	out[off] = '\0';
done:
	for (i = 0; i < n; i++) {
		free(pairs[i].name);
		free(pairs[i].value);
	}
	free(pairs);
	return out;
}

/* ---- SHA-256 ---- */

static void to_hex(const unsigned char *d, unsigned n, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	for (unsigned i = 0; i < n; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[2 * n] = '\0';
}

int norc_aws_sha256_begin(struct norc_aws_sha256 *h)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	h->ctx = ctx;
	if (!ctx)
		return NORC_ENOMEM;
	return EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 ? NORC_OK : NORC_ERR;
}

int norc_aws_sha256_update(struct norc_aws_sha256 *h, const void *p, size_t n)
{
	if (!h->ctx)
		return NORC_ERR;
	return EVP_DigestUpdate(h->ctx, p, n) == 1 ? NORC_OK : NORC_ERR;
}

int norc_aws_sha256_end(struct norc_aws_sha256 *h, char hex[NORC_AWS_SHA256_HEX])
{
	int rc = NORC_OK;
	if (!h->ctx)
		return NORC_ERR;
	if (hex) {
		unsigned char d[EVP_MAX_MD_SIZE];
		unsigned n = 0;
		if (EVP_DigestFinal_ex(h->ctx, d, &n) == 1 && n == 32)
			to_hex(d, n, hex);
		else
			rc = NORC_ERR;
	}
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
	return rc;
}

int norc_aws_sha256_mem(const void *p, size_t n, char hex[NORC_AWS_SHA256_HEX])
{
	struct norc_aws_sha256 h;
	int rc = norc_aws_sha256_begin(&h);
	if (rc == NORC_OK)
		rc = norc_aws_sha256_update(&h, p, n);
	int rc2 = norc_aws_sha256_end(&h, rc == NORC_OK ? hex : NULL);
	return rc != NORC_OK ? rc : rc2;
}

int norc_aws_sha256_fd(int fd, char hex[NORC_AWS_SHA256_HEX], uint64_t *size)
{
	struct norc_aws_sha256 h;
	unsigned char *buf = malloc(BLOCK);
	uint64_t off = 0;
	int rc = buf ? norc_aws_sha256_begin(&h) : NORC_ENOMEM;
	if (rc != NORC_OK) {
		if (buf)
			norc_aws_sha256_end(&h, NULL);
		free(buf);
		return rc;
	}
	for (;;) {
		ssize_t n = pread(fd, buf, BLOCK, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = NORC_EIO;
			break;
		}
		if (n == 0)
			break;
		rc = norc_aws_sha256_update(&h, buf, (size_t)n);
		if (rc != NORC_OK)
			break;
		off += (uint64_t)n;
	}
	int saved = errno;
	int rc2 = norc_aws_sha256_end(&h, rc == NORC_OK ? hex : NULL);
	free(buf);
	errno = saved;
	if (rc == NORC_OK && size)
		*size = off;
	return rc != NORC_OK ? rc : rc2;
}

/* ---- credentials ---- */

void norc_aws_creds_free(struct norc_aws_creds *c)
{
	if (!c)
		return;
	wipe_free(c->access_key);
	wipe_free(c->secret_key);
	wipe_free(c->session_token);
	c->access_key = c->secret_key = c->session_token = NULL;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Replace *slot with a copy of v (the old value wiped). */
static int set_secret(char **slot, const char *v)
{
	char *copy = strdup(v);
	if (!copy)
		return NORC_ENOMEM;
	wipe_free(*slot);
	*slot = copy;
	return NORC_OK;
}

/* Section header line "[name]" or "[profile name]": true when it names profile. */
static bool section_is(char *line, const char *profile)
{
	size_t n = strlen(line);
	if (n < 2 || line[n - 1] != ']')
		return false;
	line[n - 1] = '\0';
	char *name = trim(line + 1);
	if (strncmp(name, "profile", 7) == 0 && isspace((unsigned char)name[7]))
		name = trim(name + 8);
	return strcmp(name, profile) == 0;
}

static int parse_creds_file(const char *path, const char *profile, struct norc_aws_creds *out,
			    char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return fail(err, errlen, NORC_ECONFIG,
			    "credentials_file '%s' cannot be read: %s (fix the path or its "
			    "permissions, or remove the setting to use AWS_ACCESS_KEY_ID and "
			    "AWS_SECRET_ACCESS_KEY from the environment)",
			    path, strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	bool in = false, found = false;
	int rc = NORC_OK;
	while (rc == NORC_OK && (len = getline(&line, &cap, f)) >= 0) {
		char *s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			in = section_is(s, profile);
			found = found || in;
			continue;
		}
		char *eq = strchr(s, '=');
		if (!in || !eq)
			continue;
		*eq = '\0';
		char *key = trim(s), *val = trim(eq + 1);
		if (strcasecmp(key, "aws_access_key_id") == 0)
			rc = set_secret(&out->access_key, val);
		else if (strcasecmp(key, "aws_secret_access_key") == 0)
			rc = set_secret(&out->secret_key, val);
		else if (strcasecmp(key, "aws_session_token") == 0)
			rc = set_secret(&out->session_token, val);
	}
	bool read_error = ferror(f);
	if (line)
		explicit_bzero(line, cap);
	free(line);
	fclose(f);
	if (rc != NORC_OK)
		return fail(err, errlen, rc, "credentials_file '%s': out of memory", path);
	if (read_error)
		return fail(err, errlen, NORC_ECONFIG, "credentials_file '%s': read error", path);
	if (!found)
		return fail(err, errlen, NORC_ECONFIG,
			    "credentials_file '%s' has no [%s] section (set profile to one of its "
			    "sections, or add [%s])",
			    path, profile, profile);
	const char *missing = !out->access_key || !*out->access_key   ? "aws_access_key_id"
			      : !out->secret_key || !*out->secret_key ? "aws_secret_access_key"
								      : NULL;
	if (missing)
		return fail(err, errlen, NORC_ECONFIG,
			    "credentials_file '%s', profile [%s]: %s is missing or empty (add it "
			    "to that section)",
			    path, profile, missing);
	if (out->session_token && !*out->session_token) {
		wipe_free(out->session_token);
		out->session_token = NULL;
	}
	return NORC_OK;
}

int norc_aws_creds_load(const char *credentials_file, const char *profile,
			struct norc_aws_creds *out, char *err, size_t errlen)
{
	out->access_key = out->secret_key = out->session_token = NULL;
	if (credentials_file && *credentials_file)
		return parse_creds_file(credentials_file, profile && *profile ? profile : "default",
					out, err, errlen);
	if (profile && *profile)
		return fail(err, errlen, NORC_ECONFIG,
			    "profile '%s' is set but credentials_file is not (set credentials_file "
			    "to the AWS credentials file holding that profile)",
			    profile);
	const char *ak = getenv("AWS_ACCESS_KEY_ID");
	const char *sk = getenv("AWS_SECRET_ACCESS_KEY");
	const char *tok = getenv("AWS_SESSION_TOKEN");
	if ((!ak || !*ak) && (!sk || !*sk))
		return fail(err, errlen, NORC_ECONFIG,
			    "no AWS credentials: set credentials_file (an AWS credentials file) in "
			    "the settings, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the "
			    "environment");
	if (!ak || !*ak || !sk || !*sk)
		return fail(err, errlen, NORC_ECONFIG,
			    "%s is set in the environment but %s is not (set both, or use "
			    "credentials_file)",
			    ak && *ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
			    ak && *ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
	if (set_secret(&out->access_key, ak) != NORC_OK ||
	    set_secret(&out->secret_key, sk) != NORC_OK ||
	    (tok && *tok && set_secret(&out->session_token, tok) != NORC_OK))
		return fail(err, errlen, NORC_ENOMEM, "AWS credentials: out of memory");
	return NORC_OK;
}

/* ---- responses ---- */

long norc_aws_backoff_ms(int n)
{
	long ms = 500;
	for (int i = 1; i < n && ms < 20000; i++)
		ms *= 2;
	return ms < 20000 ? ms : 20000;
}

/* The text of <tag>...</tag> in xml (entities &amp; &lt; &gt; &quot; &apos; decoded, line
 * breaks and tabs turned into spaces), into out; "" when absent. */
static void xml_text(const char *xml, const char *tag, char *out, size_t len)
{
	char open[40], close[40];
	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	out[0] = '\0';
	const char *b = strstr(xml, open);
	if (!b)
		return;
	b += strlen(open);
	const char *e = strstr(b, close);
	if (!e)
		return;
	static const struct {
		const char *ent;
		char c;
	} ents[] = {
		{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''},
	};
	size_t o = 0;
	while (b < e && o + 1 < len) {
		char c = *b++;
		if (c == '&') {
			for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
				size_t n = strlen(ents[i].ent);
				if ((size_t)(e - (b - 1)) >= n &&
				    strncmp(b - 1, ents[i].ent, n) == 0) {
					c = ents[i].c;
					b += n - 1;
					break;
				}
			}
		}
		out[o++] = (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
	}
	out[o] = '\0';
}

void norc_aws_describe(const struct norc_aws_response *resp, char *buf, size_t len)
{
	if (resp->code[0] && resp->message[0])
		snprintf(buf, len, "HTTP %ld %s: %s", resp->status, resp->code, resp->message);
	else if (resp->code[0])
		snprintf(buf, len, "HTTP %ld %s", resp->status, resp->code);
	else
		snprintf(buf, len, "HTTP %ld", resp->status);
}

/* ---- one transfer ---- */

struct xfer {
	CURL *curl;
	const struct norc_aws_request *req;
	struct norc_aws_response *resp;
	uint64_t up_off;    /* next body byte to send */
	uint64_t delivered; /* body bytes handed to the sink, over all tries */
	uint64_t skip;      /* bytes of this try's body already delivered before */
	bool checked;       /* this try's status was looked at */
	bool to_sink;       /* this try's body goes to the sink */
	bool read_failed;   /* the body file could not be read */
	int sink_rc;        /* a sink's failure, or NORC_OK */
	char sink_err[512];
};

static size_t on_read(char *buf, size_t size, size_t nitems, void *arg)
{
	struct xfer *x = arg;
	const struct norc_aws_request *r = x->req;
	size_t want = size * nitems;
	uint64_t total = r->body_is_fd ? r->body_fd_size : r->body_len;
	if (x->up_off >= total)
		return 0;
	if (want > total - x->up_off)
		want = (size_t)(total - x->up_off);
	if (!r->body_is_fd) {
		memcpy(buf, (const char *)r->body + x->up_off, want);
		x->up_off += want;
		return want;
	}
	ssize_t n;
	do
		n = pread(r->body_fd, buf, want, (off_t)x->up_off);
	while (n < 0 && errno == EINTR);
	if (n <= 0) { /* an error, or the file shrank under us */
		x->read_failed = true;
		return CURL_READFUNC_ABORT;
	}
	x->up_off += (uint64_t)n;
	return (size_t)n;
}

static int on_seek(void *arg, curl_off_t offset, int origin)
{
	struct xfer *x = arg;
	if (origin != SEEK_SET || offset < 0)
		return CURL_SEEKFUNC_CANTSEEK;
	x->up_off = (uint64_t)offset;
	return CURL_SEEKFUNC_OK;
}

static void keep_body(struct norc_aws_response *resp, const char *p, size_t n)
{
	size_t room = sizeof(resp->body) - 1 - resp->body_len;
	if (n > room)
		n = room;
	memcpy(resp->body + resp->body_len, p, n);
	resp->body_len += n;
	resp->body[resp->body_len] = '\0';
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb, off = 0;
	if (!x->checked) {
		long st = 0;
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &st);
		x->to_sink = x->req->sink && st >= 200 && st < 300;
		x->skip = (x->to_sink && st != 206) ? x->delivered : 0; /* a full body again */
		x->checked = true;
	}
	if (!x->to_sink) {
		keep_body(x->resp, p, n);
		return n;
	}
	if (x->skip) {
		off = n < x->skip ? n : (size_t)x->skip;
		x->skip -= off;
	}
	if (off < n) {
		int rc = x->req->sink(x->req->sink_arg, p + off, n - off, x->sink_err,
				      sizeof(x->sink_err));
		if (rc != NORC_OK) {
			x->sink_rc = rc;
			return 0; /* CURLE_WRITE_ERROR */
		}
		x->delivered += n - off;
	}
	return n;
}

static size_t on_header(char *p, size_t size, size_t nitems, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nitems;
	if (n > 5 && strncasecmp(p, "etag:", 5) == 0) {
		size_t b = 5, e = n;
		while (b < e && (p[b] == ' ' || p[b] == '\t'))
			b++;
		while (e > b && (p[e - 1] == '\r' || p[e - 1] == '\n' || p[e - 1] == ' '))
			e--;
		if (e - b < sizeof(x->resp->etag)) {
			memcpy(x->resp->etag, p + b, e - b);
			x->resp->etag[e - b] = '\0';
		}
	}
	return n;
}

/* The request's URL: endpoint + path + '?' + canonical query. Caller frees with free. */
static char *make_url(const struct norc_aws_client *c, const struct norc_aws_request *r)
{
	char *q = norc_aws_canonical_query(r->query, r->nquery);
	if (!q)
		return NULL;
	size_t len = strlen(c->endpoint) + strlen(r->path) + strlen(q) + 2;
	char *url = malloc(len);
	if (url)
		snprintf(url, len, "%s%s%s%s", c->endpoint, r->path, *q ? "?" : "", q);
	free(q);
	return url;
}

static struct curl_slist *add_header(struct curl_slist *list, bool *ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static struct curl_slist *add_header(struct curl_slist *list, bool *ok, const char *fmt, ...)
{
	char line[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		*ok = false;
		return list;
	}
	struct curl_slist *l = curl_slist_append(list, line);
	explicit_bzero(line, sizeof(line)); /* may hold the session token */
	if (!l) {
		*ok = false;
		return list;
	}
	return l;
}

/* Set up one try on curl. *hdrs gets the header list (caller frees with curl_slist_free_all). */
static int setup(struct xfer *x, const struct norc_aws_client *c, const char *url,
		 const char *sha, const char *sigv4, char *errbuf, struct curl_slist **hdrs)
{
	const struct norc_aws_request *r = x->req;
	CURL *h = x->curl;
	bool ok = true;
	struct curl_slist *l = NULL;
	l = add_header(l, &ok, "x-amz-content-sha256: %s", sha);
	if (c->creds->session_token)
		l = add_header(l, &ok, "x-amz-security-token: %s", c->creds->session_token);
	for (size_t i = 0; i < r->nheaders; i++)
		l = add_header(l, &ok, "%s", r->headers[i]);
	if (x->delivered > 0) { /* resume a GET that dropped: the rest of the same object */
		l = add_header(l, &ok, "Range: bytes=%llu-", (unsigned long long)x->delivered);
		l = add_header(l, &ok, "If-Match: %s", x->resp->etag);
	}
	*hdrs = l;
	if (!ok)
		return NORC_ENOMEM;

	curl_easy_reset(h);
	CURLcode e = CURLE_OK;
#define SET(opt, val)                                                                          \
	do {                                                                                   \
		if (e == CURLE_OK)                                                             \
			e = curl_easy_setopt(h, opt, val);                                     \
	} while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PATH_AS_IS, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_TIMEOUT, c->timeout_s);
	SET(CURLOPT_CONNECTTIMEOUT, c->connect_timeout_s);
	SET(CURLOPT_USERAGENT, c->user_agent ? c->user_agent : "norc");
	SET(CURLOPT_AWS_SIGV4, sigv4);
	SET(CURLOPT_USERNAME, c->creds->access_key);
	SET(CURLOPT_PASSWORD, c->creds->secret_key);
	SET(CURLOPT_HTTPHEADER, l);
	SET(CURLOPT_WRITEFUNCTION, on_write);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, x);
	uint64_t size = r->body_is_fd ? r->body_fd_size : r->body_len;
	bool has_body = r->body_is_fd || r->body;
	if (strcmp(r->method, "GET") == 0) {
		SET(CURLOPT_HTTPGET, 1L);
	} else if (strcmp(r->method, "HEAD") == 0) {
		SET(CURLOPT_NOBODY, 1L);
	} else if (strcmp(r->method, "PUT") == 0) {
		SET(CURLOPT_UPLOAD, 1L);
		SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
	} else if (strcmp(r->method, "POST") == 0) {
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)size);
	} else {
		SET(CURLOPT_CUSTOMREQUEST, r->method);
		if (has_body) {
			SET(CURLOPT_UPLOAD, 1L);
			SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
		}
	}
	if (has_body || strcmp(r->method, "PUT") == 0) {
		SET(CURLOPT_READFUNCTION, on_read);
		SET(CURLOPT_READDATA, x);
		SET(CURLOPT_SEEKFUNCTION, on_seek);
		SET(CURLOPT_SEEKDATA, x);
	}
#undef SET
	return e == CURLE_OK ? NORC_OK : NORC_ERR;
}

static bool transient_curl(CURLcode e)
{
	switch (e) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

static bool transient_status(const struct norc_aws_response *r)
{
	return r->status >= 500 || r->status == 429 || strcmp(r->code, "SlowDown") == 0 ||
	       strcmp(r->code, "RequestTimeout") == 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The host part of the endpoint, for messages (never credentials: userinfo is dropped). */
static void endpoint_name(const char *endpoint, char *out, size_t len)
{
	const char *s = strstr(endpoint, "://");
	s = s ? s + 3 : endpoint;
	const char *at = strchr(s, '@');
	const char *slash = strchr(s, '/');
	if (at && (!slash || at < slash))
		s = at + 1;
	snprintf(out, len, "%s", s);
}

int norc_aws_request(CURL *curl, const struct norc_aws_client *client,
		     const struct norc_aws_request *req, struct norc_aws_response *resp, char *err,
		     size_t errlen)
{
	char sha[NORC_AWS_SHA256_HEX], sigv4[256], host[256];
	char errbuf[CURL_ERROR_SIZE];
	memset(resp, 0, sizeof(*resp));
	endpoint_name(client->endpoint, host, sizeof(host));
	bool no_body = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
	if (no_body) {
		norc_aws_sha256_mem("", 0, sha);
	} else if (req->body_sha256) {
		snprintf(sha, sizeof(sha), "%s", req->body_sha256);
	} else if (req->body_is_fd) {
		if (norc_aws_sha256_fd(req->body_fd, sha, NULL) != NORC_OK)
			return fail(err, errlen, NORC_EIO,
				    "%s %s: cannot read the body to send: %s", req->method, host,
				    strerror(errno));
	} else if (norc_aws_sha256_mem(req->body ? req->body : "", req->body_len, sha) != NORC_OK) {
		return fail(err, errlen, NORC_ERR, "%s %s: SHA-256 failed", req->method, host);
	}
	snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:%s", client->region, client->service);
	char *url = make_url(client, req);
	if (!url)
		return fail(err, errlen, NORC_ENOMEM, "%s %s: out of memory", req->method, host);

	struct xfer x = {.curl = curl, .req = req, .resp = resp};
	int attempts = client->attempts > 0 ? client->attempts : 1;
	int rc = NORC_ERR;
	for (int try = 1;; try++) {
		struct curl_slist *hdrs = NULL;
		x.up_off = 0;
		x.skip = 0;
		x.checked = x.to_sink = x.read_failed = false;
		x.sink_rc = NORC_OK;
		resp->status = 0;
		resp->body_len = 0;
		resp->body[0] = resp->code[0] = resp->message[0] = '\0';
		resp->tries = try;
		errbuf[0] = '\0';
		rc = setup(&x, client, url, sha, sigv4, errbuf, &hdrs);
		if (rc != NORC_OK) {
			curl_slist_free_all(hdrs);
			fail(err, errlen, rc, "%s %s: cannot set up the request%s", req->method,
			     host, rc == NORC_ENOMEM ? ": out of memory" : "");
			break;
		}
		CURLcode e = curl_easy_perform(curl);
		curl_slist_free_all(hdrs);
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
		curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL); /* errbuf is ours */
		curl_easy_setopt(curl, CURLOPT_PASSWORD, "");
		bool retry = false;
		if (e == CURLE_OK) {
			curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
			if (!x.to_sink && resp->body_len) {
				xml_text(resp->body, "Code", resp->code, sizeof(resp->code));
				xml_text(resp->body, "Message", resp->message,
					 sizeof(resp->message));
			}
			rc = NORC_OK;
			retry = transient_status(resp);
		} else if (x.sink_rc != NORC_OK) {
			rc = fail(err, errlen, x.sink_rc, "%s", x.sink_err);
		} else if (x.read_failed) {
			rc = fail(err, errlen, NORC_EIO,
				  "%s %s: the body file could not be read (or shrank) while "
				  "sending",
				  req->method, host);
		} else {
			rc = e == CURLE_OPERATION_TIMEDOUT ? NORC_ETIMEDOUT : NORC_ECONN;
			fail(err, errlen, rc, "%s %s: %s (after %d %s)", req->method, host,
			     errbuf[0] ? errbuf : curl_easy_strerror(e), try,
			     try == 1 ? "try" : "tries");
			/* A GET that handed bytes on already resumes only with the ETag. */
			retry = transient_curl(e) && (x.delivered == 0 || resp->etag[0]);
		}
		if (!retry || try >= attempts)
			break;
		sleep_ms(norc_aws_backoff_ms(try));
	}
	free(url);
	return rc;
}

int norc_aws_global_init(const char *who, char *err, size_t errlen)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK)
		return NORC_OK;
	snprintf(err, errlen, "%s: libcurl failed to initialise", who);
	return NORC_ERR;
}

void norc_aws_global_cleanup(void) { curl_global_cleanup(); }
