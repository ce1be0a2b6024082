/*
 * sqs.c - SQSQueue: a Norc queue in Amazon SQS (or an SQS-compatible server), a remote queue
 * (NORC_QUEUE_REMOTE: pop long-polls, ack/nack/touch settle what pop handed out).
 *
 * Parameters (norc_params of the queue, all strings; validate() checks them without network):
 * endpoint (https://sqs.REGION.amazonaws.com; http:// allowed, for tests; no path); region
 * (us-east-1); queue_name (the Norc queue's name; 1-80 of A-Za-z0-9-_, standard queues only);
 * credentials_file and profile (else AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * AWS_SESSION_TOKEN from the environment; the file is re-read at most every 30 s, so rotated
 * STS credentials are picked up); wait_time (20 s long poll, 0..20); visibility_timeout
 * (30 s, 1..43200); create (true: open() creates a missing queue with that VisibilityTimeout);
 * attempts (3 tries per request); timeout (wait_time + 10 s; at least wait_time + 5: a
 * ReceiveMessage gets the whole timeout, every other request only timeout - wait_time, so
 * push and count stay short in the daemons); connect_timeout (10 s); max_receives (0: off; the
 * executor itself drops an item whose instance stays absent for 2 min, and a nack for want of
 * a free slot or an unreachable database must never count towards deleting an item).
 *
 * Protocol: the SQS JSON protocol (POST / with X-Amz-Target: AmazonSQS.Action), always sent to
 * the endpoint; the QueueUrl that open() resolves (GetQueueUrl, CreateQueue) is only an
 * identifier in request bodies. Requests are signed and retried by norc_aws (core/aws.h).
 *
 * Messages: push sends exactly {"instance_id":N}; pop takes one message (ReceiveMessage with
 * the queue's visibility_timeout) and remembers its receipt handle, receive count and time in
 * a table (sqsmsg.h) until ack (DeleteMessage), nack (ChangeMessageVisibility to the delay;
 * a message received max_receives times or more is deleted instead, with a warning: its
 * instance never showed up) or clear. touch extends the visibility of held messages whose
 * visibility is half used up. A body that is not {"instance_id":N} is deleted with a warning
 * and pop returns NORC_EAGAIN: nothing but an instance id is ever taken from a message.
 * count is ApproximateNumberOfMessages (visible messages only). peek is NORC_EUNSUPP. clear is
 * PurgeQueue: *removed is the count before; AWS may take up to 60 s to purge and refuses a
 * second purge within 60 s (PurgeQueueInProgress).
 *
 * Errors are one line naming the queue (Norc name and SQS name), the action, the HTTP status
 * and the SQS error code and message; never a credential (the first line of the server's
 * message only, with any credential string masked).
 * Built with the public SDK and norc_aws only, exactly like a third-party plugin.
 */
#include "aws.h"
#include "settings.h"
#include "sqsmsg.h"

#include <norc/queue.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NORC_SQS_VERSION "1.0"
#define SQS_TIMEOUT_MARGIN 5	      /* timeout must be at least wait_time + this */
#define SQS_ANSWER_MAX (2u << 20)     /* the largest answer read (a message is at most 1 MiB) */
#define SQS_CREDS_REREAD_US 30000000 /* credentials_file re-read at most this often */

static const struct norc_host_api *api;
static struct norc_host *host;

static const char *const sqs_keys[] = {
	"endpoint",	  "region",	 "queue_name", "credentials_file",
	"profile",	  "wait_time",	 "visibility_timeout", "create",
	"attempts",	  "timeout",	 "connect_timeout",    "max_receives",
	NULL};

/* Parameters as read from norc_params; strings borrowed from them. */
struct sqs_conf {
	const char *endpoint; /* NULL: the region's */
	const char *region;
	const char *queue_name; /* NULL: the Norc queue's name */
	const char *cred_file, *profile;
	long wait_time, visibility, attempts, timeout, connect_timeout, max_receives;
	bool create;
};

struct sqs {
	char *norc_name; /* the Norc queue's name; owned */
	char *name;	 /* the SQS queue's name; owned */
	char *url;	 /* its QueueUrl; owned */
	char *endpoint, *region;
	char *cred_file, *profile; /* owned; NULL when unset */
	int64_t creds_read_us;
	struct norc_aws_creds creds;
	struct norc_aws_client client;
	long wait_time, visibility, timeout, max_receives;
	CURL *curl;
	struct norc_sqsmsg_table held;
};

static int sqs_init(struct norc_host *h, const struct norc_host_api *a, void **state, char *err,
		    size_t errlen)
{
	api = a;
	host = h;
	*state = NULL;
	return norc_aws_global_init("SQSQueue", err, errlen);
}

static void sqs_fini(void *state)
{
	(void)state;
	norc_aws_global_cleanup();
}

/* ---- parameters ---- */

static bool valid_region(const char *r)
{
	if (!*r)
		return false;
	for (const char *p = r; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	return true;
}

/* http(s)://host[:port] with nothing after but '/'s, no user info. */
static bool valid_endpoint(const char *e)
{
	const char *h;
	if (strncmp(e, "http://", 7) == 0)
		h = e + 7;
	else if (strncmp(e, "https://", 8) == 0)
		h = e + 8;
	else
		return false;
	size_t n = strcspn(h, "/?#@ ");
	return n > 0 && h[n] != '?' && h[n] != '#' && h[n] != '@' && h[n] != ' ' &&
	       strspn(h + n, "/") == strlen(h + n);
}

static int sqs_read_conf(const struct norc_params *p, struct sqs_conf *c, char *err,
			 size_t errlen)
{
	memset(c, 0, sizeof(*c));
	int rc = norc_settings_check_keys(api, p, "SQSQueue", sqs_keys, err, errlen);
	if (rc != NORC_OK)
		return rc;
	c->endpoint = api->param_get(p, "endpoint");
	c->region = api->param_get(p, "region");
	c->queue_name = api->param_get(p, "queue_name");
	c->cred_file = api->param_get(p, "credentials_file");
	c->profile = api->param_get(p, "profile");
	if (c->endpoint && !valid_endpoint(c->endpoint)) {
		snprintf(err, errlen,
			 "SQSQueue setting endpoint = '%s' must be an http:// or https:// URL with "
			 "no path (like https://sqs.eu-west-1.amazonaws.com)", c->endpoint);
		return NORC_ECONFIG;
	}
	if (c->region && !valid_region(c->region)) {
		snprintf(err, errlen,
			 "SQSQueue setting region = '%s' is not a region name (like eu-west-1)",
			 c->region);
		return NORC_ECONFIG;
	}
	if (!c->region)
		c->region = "us-east-1";
	if (c->queue_name && !norc_sqsmsg_valid_name(c->queue_name)) {
		snprintf(err, errlen,
			 "SQSQueue setting queue_name = '%s' is not an SQS queue name (1 to 80 of "
			 "A-Z a-z 0-9 - _; FIFO queues are not supported)", c->queue_name);
		return NORC_ECONFIG;
	}
	if (c->cred_file && !*c->cred_file) {
		snprintf(err, errlen, "SQSQueue setting credentials_file is empty");
		return NORC_ECONFIG;
	}
	if (c->profile && !c->cred_file) {
		snprintf(err, errlen, "SQSQueue setting profile needs credentials_file (the "
			 "environment's AWS_* variables have no profiles)");
		return NORC_ECONFIG;
	}
	if ((rc = norc_settings_long(api, p, "SQSQueue", "wait_time", 20, 0, 20, &c->wait_time,
				     err, errlen)) != NORC_OK ||
	    (rc = norc_settings_long(api, p, "SQSQueue", "visibility_timeout", 30, 1, 43200,
				     &c->visibility, err, errlen)) != NORC_OK ||
	    (rc = norc_settings_bool(api, p, "SQSQueue", "create", true, &c->create, err,
				     errlen)) != NORC_OK ||
	    (rc = norc_settings_long(api, p, "SQSQueue", "attempts", 3, 1, 20, &c->attempts, err,
				     errlen)) != NORC_OK ||
	    (rc = norc_settings_long(api, p, "SQSQueue", "timeout", c->wait_time + 10, 1, 3600,
				     &c->timeout, err, errlen)) != NORC_OK ||
	    (rc = norc_settings_long(api, p, "SQSQueue", "connect_timeout", 10, 1, 3600,
				     &c->connect_timeout, err, errlen)) != NORC_OK ||
	    (rc = norc_settings_long(api, p, "SQSQueue", "max_receives", 0, 0, 1000,
				     &c->max_receives, err, errlen)) != NORC_OK)
		return rc;
	if (c->timeout < c->wait_time + SQS_TIMEOUT_MARGIN) {
		snprintf(err, errlen,
			 "SQSQueue setting timeout = %ld must be at least wait_time + %d = %ld s "
			 "(a receive waits up to wait_time = %ld s)", c->timeout,
			 SQS_TIMEOUT_MARGIN, c->wait_time + SQS_TIMEOUT_MARGIN, c->wait_time);
		return NORC_ECONFIG;
	}
	return NORC_OK;
}

static int sqs_validate(void *state, const struct norc_params *params, char *err, size_t errlen)
{
	(void)state;
	struct sqs_conf c;
	return sqs_read_conf(params, &c, err, errlen);
}

/* ---- messages ---- */

/* Replace every occurrence of a credential in s with "***". */
static void mask(char *s, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	if (n < 4)
		return;
	for (char *p = strstr(s, secret); p; p = strstr(p + 3, secret)) {
		memcpy(p, "***", 3);
		memmove(p + 3, p + n, strlen(p + n) + 1);
	}
}

/* "SQSQueue 'NORC' (SQS queue NAME) ACTION: " + fmt, masked. Returns rc. */
static int sqs_fail(const struct sqs *s, const char *action, int rc, char *err, size_t errlen,
		    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int sqs_fail(const struct sqs *s, const char *action, int rc, char *err, size_t errlen,
		    const char *fmt, ...)
{
	int off = snprintf(err, errlen, "SQSQueue '%s' (SQS queue %s) %s: ", s->norc_name, s->name,
			   action);
	if (off >= 0 && (size_t)off < errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err + off, errlen - (size_t)off, fmt, ap);
		va_end(ap);
	}
	mask(err, s->creds.secret_key);
	mask(err, s->creds.session_token);
	mask(err, s->creds.access_key);
	return rc;
}

/* A hint for the SQS error codes a user can fix, or NULL. */
static const char *hint_for(const char *code, long status)
{
	static const struct {
		const char *code, *hint;
	} hints[] = {
		{"SignatureDoesNotMatch", "check the secret key and the region"},
		{"InvalidClientTokenId", "check the access key"},
		{"UnrecognizedClientException", "check the access key"},
		{"AccessDenied", "check the key's permissions on this queue"},
		{"AccessDeniedException", "check the key's permissions on this queue"},
		{"ExpiredToken", "the session token has expired: renew the credentials"},
		{"QueueDoesNotExist", "create it, or set create = true"},
		{"NonExistentQueue", "create it, or set create = true"},
		{"QueueNameExists", "it exists with other attributes: match visibility_timeout"},
		{"PurgeQueueInProgress", "SQS allows one purge per queue every 60 s"},
	};
	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (strcmp(code, hints[i].code) == 0)
			return hints[i].hint;
	return status == 403 && !*code ? "check the credentials and the key's permissions" : NULL;
}

/* ---- requests ---- */

struct answer {
	char *p; /* malloc'd */
	size_t n, cap;
};

static int collect(void *arg, const void *data, size_t n, char *err, size_t errlen)
{
	struct answer *a = arg;
	if (a->n + n > SQS_ANSWER_MAX) {
		snprintf(err, errlen, "the answer is larger than %u bytes", SQS_ANSWER_MAX);
		return NORC_EIO;
	}
	if (a->n + n > a->cap) {
		size_t cap = a->cap ? a->cap : 4096;
		while (cap < a->n + n)
			cap *= 2;
		char *p = realloc(a->p, cap);
		if (!p) {
			snprintf(err, errlen, "out of memory");
			return NORC_ENOMEM;
		}
		a->p = p;
		a->cap = cap;
	}
	memcpy(a->p + a->n, data, n);
	a->n += n;
	return NORC_OK;
}

/* A rotated credentials_file is picked up; a read that fails keeps the credentials before. */
static void refresh_creds(struct sqs *s)
{
	int64_t now = api->now_us();
	if (!s->cred_file || now - s->creds_read_us < SQS_CREDS_REREAD_US)
		return;
	s->creds_read_us = now;
	struct norc_aws_creds fresh = {0};
	char why[256];
	if (norc_aws_creds_load(s->cred_file, s->profile, &fresh, why, sizeof(why)) == NORC_OK) {
		norc_aws_creds_free(&s->creds);
		s->creds = fresh;
	} else {
		norc_aws_creds_free(&fresh);
	}
}

/*
 * POST one action with body req (stolen: decref'd here; NULL means json_pack ran out of
 * memory). On NORC_OK *out (may be NULL) gets the parsed
 * answer, or NULL for an empty body; caller json_decref's it. Otherwise err names the queue,
 * the action and why, and code (may be NULL; 64 bytes) gets the SQS error code or "".
 * poll: a ReceiveMessage, which may take wait_time s before answering.
 */
static int sqs_call(struct sqs *s, const char *action, json_t *req, bool poll, json_t **out,
		    char *code, char *err, size_t errlen)
{
	if (out)
		*out = NULL;
	if (code)
		code[0] = '\0';
	if (!req)
		return sqs_fail(s, action, NORC_ENOMEM, err, errlen, "out of memory");
	char *body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!body)
		return sqs_fail(s, action, NORC_ENOMEM, err, errlen, "out of memory");
	refresh_creds(s);
	char target[80];
	snprintf(target, sizeof(target), "X-Amz-Target: AmazonSQS.%s", action);
	const char *hdrs[] = {"Content-Type: application/x-amz-json-1.0", target};
	struct answer ans = {0};
	struct norc_aws_request r = {
		.method = "POST",
		.path = "/",
		.headers = hdrs,
		.nheaders = 2,
		.body = body,
		.body_len = strlen(body),
		.sink = collect,
		.sink_arg = &ans,
	};
	struct norc_aws_client client = s->client;
	client.timeout_s = poll ? s->timeout : s->timeout - s->wait_time;
	struct norc_aws_response resp;
	char why[768];
	int rc = norc_aws_request(s->curl, &client, &r, &resp, why, sizeof(why));
	free(body);
	if (rc != NORC_OK) {
		free(ans.p);
		return sqs_fail(s, action, rc, err, errlen, "%s", why);
	}
	char tries[32] = "";
	if (resp.tries > 1)
		snprintf(tries, sizeof(tries), " (after %d tries)", resp.tries);
	if (resp.status < 200 || resp.status >= 300) {
		char c[64], msg[256];
		free(ans.p);
		rc = resp.status >= 500 || resp.status == 429 ? NORC_EIO : NORC_ERR;
		if (!norc_sqsmsg_error(resp.body, resp.body_len, c, sizeof(c), msg, sizeof(msg)))
			norc_sqsmsg_oneline(resp.body, resp.body_len, msg, 160);
		if (code)
			snprintf(code, 64, "%s", c);
		const char *hint = hint_for(c, resp.status);
		return sqs_fail(s, action, rc, err, errlen, "HTTP %ld%s%s%s%s%s%s%s%s", resp.status,
				*c ? " " : "", c, *msg ? ": " : "", msg, tries, hint ? " (" : "",
				hint ? hint : "", hint ? ")" : "");
	}
	size_t blank = 0;
	while (blank < ans.n && strchr(" \t\r\n", ans.p[blank]))
		blank++;
	if (blank == ans.n) { /* an empty answer: local-aws-sqs's empty ReceiveMessage */
		free(ans.p);
		return NORC_OK;
	}
	json_error_t jerr;
	json_t *j = json_loadb(ans.p, ans.n, 0, &jerr);
	if (!j) {
		char shown[160];
		norc_sqsmsg_oneline(ans.p, ans.n, shown, sizeof(shown));
		free(ans.p);
		return sqs_fail(s, action, NORC_EIO, err, errlen,
				"HTTP %ld but the answer is not JSON: '%s' (is endpoint an SQS "
				"server?)", resp.status, shown);
	}
	free(ans.p);
	if (out)
		*out = j;
	else
		json_decref(j);
	return NORC_OK;
}

/* ---- open, close ---- */

static void sqs_close(void *handle)
{
	struct sqs *s = handle;
	if (!s)
		return;
	if (s->curl)
		curl_easy_cleanup(s->curl);
	norc_sqsmsg_table_free(&s->held);
	norc_aws_creds_free(&s->creds);
	free(s->cred_file);
	free(s->profile);
	free(s->norc_name);
	free(s->name);
	free(s->url);
	free(s->endpoint);
	free(s->region);
	free(s);
}

/* The QueueUrl from an answer, copied into s->url. */
static int take_url(struct sqs *s, const char *action, json_t *ans, char *err, size_t errlen)
{
	const char *url = json_string_value(json_object_get(ans, "QueueUrl"));
	bool none = !url || !*url;
	if (!none)
		s->url = strdup(url);
	json_decref(ans);
	if (none)
		return sqs_fail(s, action, NORC_EIO, err, errlen, "the answer has no QueueUrl");
	return s->url ? NORC_OK : sqs_fail(s, action, NORC_ENOMEM, err, errlen, "out of memory");
}

/* GetQueueUrl; CreateQueue when it does not exist and create is allowed. */
static int resolve(struct sqs *s, bool create, char *err, size_t errlen)
{
	char code[64];
	json_t *ans;
	int rc = sqs_call(s, "GetQueueUrl", json_pack("{s:s}", "QueueName", s->name), false, &ans,
			  code, err, errlen);
	if (rc == NORC_OK)
		return take_url(s, "GetQueueUrl", ans, err, errlen);
	bool missing = strcmp(code, "QueueDoesNotExist") == 0 ||
		       strcmp(code, "AWS.SimpleQueueService.NonExistentQueue") == 0 ||
		       strcmp(code, "NonExistentQueue") == 0;
	if (!missing || !create)
		return missing ? NORC_ENOTFOUND : rc;
	char vt[24];
	snprintf(vt, sizeof(vt), "%ld", s->visibility);
	rc = sqs_call(s, "CreateQueue",
		      json_pack("{s:s, s:{s:s}}", "QueueName", s->name, "Attributes",
				"VisibilityTimeout", vt),
		      false, &ans, code, err, errlen);
	if (rc != NORC_OK)
		return rc;
	rc = take_url(s, "CreateQueue", ans, err, errlen);
	if (rc == NORC_OK)
		api->log(host, NORC_LOG_INFO,
			 "SQSQueue '%s': created SQS queue %s (visibility_timeout %ld s)",
			 s->norc_name, s->name, s->visibility);
	return rc;
}

static int sqs_open(void *state, const struct norc_queue_ref *ref, void **handle, char *err,
		    size_t errlen)
{
	(void)state;
	*handle = NULL;
	struct sqs_conf c;
	int rc = sqs_read_conf(ref->params, &c, err, errlen);
	if (rc != NORC_OK)
		return rc;
	const char *name = c.queue_name ? c.queue_name : ref->name ? ref->name : "";
	if (!norc_sqsmsg_valid_name(name)) {
		snprintf(err, errlen,
			 "SQSQueue '%s': the queue's name is not an SQS queue name (1 to 80 of A-Z "
			 "a-z 0-9 - _): set queue_name", ref->name ? ref->name : "");
		return NORC_ECONFIG;
	}
	struct sqs *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "SQSQueue: out of memory");
		return NORC_ENOMEM;
	}
	s->norc_name = strdup(ref->name ? ref->name : "");
	s->name = strdup(name);
	s->region = strdup(c.region);
	if (c.endpoint) {
		s->endpoint = strdup(c.endpoint);
		size_t n = s->endpoint ? strlen(s->endpoint) : 0;
		while (n > 0 && s->endpoint[n - 1] == '/')
			s->endpoint[--n] = '\0';
	} else if (asprintf(&s->endpoint, "https://sqs.%s.amazonaws.com", c.region) < 0) {
		s->endpoint = NULL;
	}
	s->cred_file = c.cred_file ? strdup(c.cred_file) : NULL;
	s->profile = c.profile ? strdup(c.profile) : NULL;
	s->wait_time = c.wait_time;
	s->visibility = c.visibility;
	s->timeout = c.timeout;
	s->max_receives = c.max_receives;
	s->creds_read_us = api->now_us();
	s->curl = curl_easy_init();
	if (!s->norc_name || !s->name || !s->region || !s->endpoint ||
	    (c.cred_file && !s->cred_file) || (c.profile && !s->profile) || !s->curl) {
		sqs_close(s);
		snprintf(err, errlen, "SQSQueue: out of memory");
		return NORC_ENOMEM;
	}
	char why[768];
	rc = norc_aws_creds_load(c.cred_file, c.profile, &s->creds, why, sizeof(why));
	if (rc != NORC_OK) {
		snprintf(err, errlen, "SQSQueue '%s': %s", s->norc_name, why);
		sqs_close(s);
		return rc;
	}
	s->client = (struct norc_aws_client){
		.endpoint = s->endpoint,
		.region = s->region,
		.service = "sqs",
		.creds = &s->creds,
		.attempts = (int)c.attempts,
		.timeout_s = c.timeout,
		.connect_timeout_s = c.connect_timeout,
		.user_agent = "norc-sqs/" NORC_SQS_VERSION,
	};
	rc = resolve(s, c.create, err, errlen);
	if (rc != NORC_OK) {
		sqs_close(s);
		return rc;
	}
	api->log(host, NORC_LOG_DEBUG, "SQSQueue '%s': SQS queue %s is %s", s->norc_name, s->name,
		 s->url);
	*handle = s;
	return NORC_OK;
}

/* ---- push, pop ---- */

static int sqs_push(void *handle, int64_t instance_id, char *err, size_t errlen)
{
	struct sqs *s = handle;
	char body[NORC_SQSMSG_BODY_MAX];
	if (norc_sqsmsg_format(instance_id, body, sizeof(body)) != NORC_OK)
		return sqs_fail(s, "SendMessage", NORC_EINVAL, err, errlen,
				"instance id %" PRId64 " is not a positive number", instance_id);
	return sqs_call(s, "SendMessage",
			json_pack("{s:s, s:s}", "QueueUrl", s->url, "MessageBody", body), false,
			NULL, NULL, err, errlen);
}

static int delete_message(struct sqs *s, const char *receipt, char *err, size_t errlen)
{
	json_t *req = json_pack("{s:s, s:s}", "QueueUrl", s->url, "ReceiptHandle", receipt);
	return sqs_call(s, "DeleteMessage", req, false, NULL, NULL, err, errlen);
}

static int set_visibility(struct sqs *s, const char *receipt, long seconds, char *err,
			  size_t errlen)
{
	return sqs_call(s, "ChangeMessageVisibility",
			json_pack("{s:s, s:s, s:I}", "QueueUrl", s->url, "ReceiptHandle", receipt,
				  "VisibilityTimeout", (json_int_t)seconds),
			false, NULL, NULL, err, errlen);
}

/* A message whose body is not ours: delete it, warn, and report the queue empty for now. */
static int drop_foreign(struct sqs *s, const struct norc_sqsmsg_received *m)
{
	char shown[120], why[1024];
	norc_sqsmsg_oneline(m->body, strlen(m->body), shown, sizeof(shown));
	int rc = delete_message(s, m->receipt, why, sizeof(why));
	if (rc == NORC_OK)
		api->log(host, NORC_LOG_WARN,
			 "SQSQueue '%s' (SQS queue %s): deleted message %s: its body is not "
			 "{\"instance_id\":N}: '%s'", s->norc_name, s->name, m->message_id, shown);
	else
		api->log(host, NORC_LOG_WARN,
			 "SQSQueue '%s' (SQS queue %s): message %s has a body that is not "
			 "{\"instance_id\":N} ('%s'), and deleting it failed: %s", s->norc_name,
			 s->name, m->message_id, shown, why);
	return NORC_EAGAIN;
}

static int sqs_pop(void *handle, int64_t *instance_id, char *err, size_t errlen)
{
	struct sqs *s = handle;
	json_t *ans;
	json_t *req = json_pack("{s:s, s:i, s:I, s:I, s:[s], s:[s]}", "QueueUrl", s->url,
				"MaxNumberOfMessages", 1, "WaitTimeSeconds",
				(json_int_t)s->wait_time, "VisibilityTimeout",
				(json_int_t)s->visibility, "AttributeNames",
				"ApproximateReceiveCount", "MessageSystemAttributeNames",
				"ApproximateReceiveCount");
	int rc = sqs_call(s, "ReceiveMessage", req, true, &ans, NULL, err, errlen);
	if (rc != NORC_OK)
		return rc;
	struct norc_sqsmsg_received m;
	char why[256];
	rc = norc_sqsmsg_received_take(ans, &m, why, sizeof(why));
	json_decref(ans);
	if (rc == NORC_EAGAIN)
		return rc;
	if (rc != NORC_OK)
		return sqs_fail(s, "ReceiveMessage", rc == NORC_ENOMEM ? rc : NORC_EIO, err, errlen,
				"%s", why);
	int64_t id;
	if (norc_sqsmsg_parse_body(m.body, &id) != NORC_OK) {
		rc = drop_foreign(s, &m);
		norc_sqsmsg_received_free(&m);
		return rc;
	}
	rc = norc_sqsmsg_hold(&s->held, id, m.message_id, m.receipt, m.receives, api->now_us());
	if (rc == NORC_OK)
		api->log(host, NORC_LOG_DEBUG,
			 "SQSQueue '%s': instance %" PRId64 " received (message %s, receive %ld)",
			 s->norc_name, id, m.message_id, m.receives);
	norc_sqsmsg_received_free(&m);
	if (rc != NORC_OK)
		return sqs_fail(s, "ReceiveMessage", rc, err, errlen, "out of memory");
	*instance_id = id;
	return NORC_OK;
}

/* ---- ack, nack, touch ---- */

/* Keep the first failure's message and code. */
static void first_fail(int *rc, int r, char *err, const char *why, size_t errlen)
{
	if (r != NORC_OK && *rc == NORC_OK) {
		*rc = r;
		snprintf(err, errlen, "%s", why);
	}
}

static int not_held(struct sqs *s, const char *op, int64_t id, char *err, size_t errlen)
{
	return sqs_fail(s, op, NORC_ENOTFOUND, err, errlen,
			"instance %" PRId64 " is not held (not popped here, or settled already)",
			id);
}

static int sqs_ack(void *handle, int64_t instance_id, char *err, size_t errlen)
{
	struct sqs *s = handle;
	size_t i = norc_sqsmsg_find(&s->held, instance_id, 0);
	if (i == s->held.n)
		return not_held(s, "ack", instance_id, err, errlen);
	int rc = NORC_OK;
	char why[1024];
	for (; i < s->held.n; i = norc_sqsmsg_find(&s->held, instance_id, i)) {
		first_fail(&rc, delete_message(s, s->held.v[i].receipt, why, sizeof(why)), err,
			   why, errlen);
		norc_sqsmsg_forget(&s->held, i); /* on failure it shows up again: acked then */
	}
	return rc;
}

static int sqs_nack(void *handle, int64_t instance_id, int delay_s, char *err, size_t errlen)
{
	struct sqs *s = handle;
	size_t i = norc_sqsmsg_find(&s->held, instance_id, 0);
	if (i == s->held.n)
		return not_held(s, "nack", instance_id, err, errlen);
	long delay = delay_s < 0 ? 0 : delay_s > 43200 ? 43200 : delay_s;
	int rc = NORC_OK;
	char why[1024];
	for (; i < s->held.n; i = norc_sqsmsg_find(&s->held, instance_id, i)) {
		const struct norc_sqsmsg_held *h = &s->held.v[i];
		if (s->max_receives && h->receives >= s->max_receives) {
			int r = delete_message(s, h->receipt, why, sizeof(why));
			if (r == NORC_OK)
				api->log(host, NORC_LOG_WARN,
					 "SQSQueue '%s' (SQS queue %s): instance %" PRId64
					 " was received %ld times without being found: its message "
					 "%s is deleted (max_receives = %ld)",
					 s->norc_name, s->name, instance_id, h->receives,
					 h->message_id, s->max_receives);
			first_fail(&rc, r, err, why, errlen);
		} else {
			first_fail(&rc, set_visibility(s, h->receipt, delay, why, sizeof(why)), err,
				   why, errlen);
		}
		norc_sqsmsg_forget(&s->held, i);
	}
	return rc;
}

static int sqs_touch(void *handle, char *err, size_t errlen)
{
	struct sqs *s = handle;
	int rc = NORC_OK;
	char why[1024];
	for (size_t i = 0; i < s->held.n; i++) {
		struct norc_sqsmsg_held *h = &s->held.v[i];
		int64_t now = api->now_us();
		if (!norc_sqsmsg_due(h, s->visibility, now))
			continue;
		int r = set_visibility(s, h->receipt, s->visibility, why, sizeof(why));
		if (r == NORC_OK)
			h->extended_us = now;
		first_fail(&rc, r, err, why, errlen);
	}
	return rc;
}

/* ---- count, peek, clear ---- */

static int sqs_count(void *handle, int64_t *n, char *err, size_t errlen)
{
	struct sqs *s = handle;
	json_t *ans;
	int rc = sqs_call(s, "GetQueueAttributes",
			  json_pack("{s:s, s:[s]}", "QueueUrl", s->url, "AttributeNames",
				    "ApproximateNumberOfMessages"),
			  false, &ans, NULL, err, errlen);
	if (rc != NORC_OK)
		return rc;
	const json_t *v = json_object_get(json_object_get(ans, "Attributes"),
					  "ApproximateNumberOfMessages");
	long long c = -1;
	if (json_is_integer(v)) {
		c = json_integer_value(v);
	} else if (json_is_string(v)) {
		char *end;
		c = strtoll(json_string_value(v), &end, 10);
		if (end == json_string_value(v) || *end)
			c = -1;
	}
	json_decref(ans);
	if (c < 0)
		return sqs_fail(s, "GetQueueAttributes", NORC_EIO, err, errlen,
				"the answer has no ApproximateNumberOfMessages");
	*n = c;
	return NORC_OK;
}

static int sqs_peek(void *handle, int64_t *instance_id, char *err, size_t errlen)
{
	(void)instance_id;
	return sqs_fail(handle, "peek", NORC_EUNSUPP, err, errlen,
			"SQS cannot look at a message without receiving it");
}

static int sqs_clear(void *handle, int64_t *removed, char *err, size_t errlen)
{
	struct sqs *s = handle;
	int64_t before = 0;
	int rc = sqs_count(s, &before, err, errlen);
	if (rc != NORC_OK)
		return rc;
	rc = sqs_call(s, "PurgeQueue", json_pack("{s:s}", "QueueUrl", s->url), false, NULL, NULL,
		      err, errlen);
	if (rc != NORC_OK)
		return rc;
	norc_sqsmsg_table_free(&s->held); /* their receipts died with them */
	*removed = before;
	return NORC_OK;
}

static const struct norc_queue_ops sqs_ops = {
	.struct_size = sizeof(struct norc_queue_ops),
	.validate = sqs_validate,
	.open = sqs_open,
	.close = sqs_close,
	.push = sqs_push,
	.pop = sqs_pop,
	.peek = sqs_peek,
	.count = sqs_count,
	.clear = sqs_clear,
	.flags = NORC_QUEUE_REMOTE,
	.ack = sqs_ack,
	.nack = sqs_nack,
	.touch = sqs_touch,
};

NORC_PLUGIN_DEFINE(NORC_KIND_QUEUE, 0, "SQSQueue", NORC_SQS_VERSION,
		   "queue in Amazon SQS or an SQS-compatible server (JSON protocol, SigV4)",
		   sqs_init, sqs_fini, &sqs_ops);
