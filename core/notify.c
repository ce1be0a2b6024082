/*
 * notify.c - see notify.h. The alert's text, e-mail and webhook.
 */
#include "notify.h"
#include "clock.h"
#include "mem.h"
#include "status.h"

#include <norc/version.h>

#include <curl/curl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *p)
{
	size_t n = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3
				     : (*p & 0xF8) == 0xF0 ? 4 : 0;
	if (n == 2 && *p < 0xC2)
		return 0; /* overlong */
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

/* Text safe for a mail header, a body line or a JSON string: control characters become
 * spaces and bytes that are not UTF-8 become '?' (jansson refuses them). Caller frees. */
static char *one_line(const char *s)
{
	char *o = norc_xstrdup(s ? s : "?");
	for (unsigned char *c = (unsigned char *)o; *c;) {
		size_t n = utf8_len(c);
		if (!n) {
			*c++ = '?';
			continue;
		}
		if (n == 1 && (*c < ' ' || *c == 127))
			*c = ' ';
		c += n;
	}
	return o;
}

static const char *status_text(const struct norc_alert_msg *m)
{
	return m->instance_id ? norc_status_name(m->status) : NULL;
}

char *norc_notify_subject(const struct norc_alert_msg *m)
{
	char *host = one_line(m->host), *name = one_line(m->task_name), *s;
	if (m->instance_id)
		s = norc_xasprintf("[norc] %s: %s (%s, instance #%" PRId64 "%s%s)", name,
				   norc_alert_kind_name(m->kind), status_text(m), m->instance_id,
				   m->host ? " on " : "", m->host ? host : "");
	else
		s = norc_xasprintf("[norc] %s: %s", name, norc_alert_kind_name(m->kind));
	free(host);
	free(name);
	return s;
}

/* The log's address: the web API's, or the command that shows it. Caller frees. */
static char *log_link(const struct norc_config *cfg, int64_t instance_id)
{
	const char *l = cfg->alerts.link;
	int n = l ? (int)strlen(l) : 0;
	while (n > 0 && l[n - 1] == '/')
		n--;
	if (n)
		return norc_xasprintf("%.*s/api/logs/instance/%" PRId64, n, l, instance_id);
	return norc_xasprintf("norc_log_viewer instance %" PRId64, instance_id);
}

/* "what it ended with": exit code, signal, reason. */
static void outcome(const struct norc_alert_msg *m, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s", status_text(m));
	if (m->exit_code >= 0 && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, ", exit code %d", m->exit_code);
	if (m->term_signal && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, ", signal %d", m->term_signal);
	if (m->reason && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " (%s)", m->reason);
}

/* A copy of m whose texts are one clean line each (one_line); free with clean_free. */
static struct norc_alert_msg clean(const struct norc_alert_msg *m)
{
	struct norc_alert_msg c = *m;
	c.task_name = one_line(m->task_name);
	c.task_type = one_line(m->task_type);
	c.reason = m->reason ? one_line(m->reason) : NULL;
	c.host = m->host ? one_line(m->host) : NULL;
	c.detail = m->detail ? one_line(m->detail) : NULL;
	c.email = NULL;
	c.webhook = NULL;
	return c;
}

static void clean_free(struct norc_alert_msg *c)
{
	free(c->task_name);
	free(c->task_type);
	free(c->reason);
	free(c->host);
	free(c->detail);
}

static char *body(const struct norc_config *cfg, const struct norc_alert_msg *m);

char *norc_notify_body(const struct norc_config *cfg, const struct norc_alert_msg *m)
{
	struct norc_alert_msg c = clean(m);
	char *b = body(cfg, &c);
	clean_free(&c);
	return b;
}

static char *body(const struct norc_config *cfg, const struct norc_alert_msg *m)
{
	char *b = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&b, &len);
	if (!f)
		return norc_xstrdup("");
	char t[40];
	fprintf(f, "Norc alert: %s of task %s\r\n\r\n", norc_alert_kind_name(m->kind),
		m->task_name);
	fprintf(f, "Task:      %s (#%" PRId64 ", %s)\r\n", m->task_name, m->task_id, m->task_type);
	if (m->detail)
		fprintf(f, "What:      %s\r\n", m->detail);
	if (m->instance_id) {
		char out[400];
		outcome(m, out, sizeof(out));
		fprintf(f, "Instance:  #%" PRId64 ", attempt %d\r\n", m->instance_id, m->attempt);
		fprintf(f, "Status:    %s\r\n", out);
		if (m->host)
			fprintf(f, "Host:      %s (executor #%" PRId64 ")\r\n", m->host, m->executor_id);
		if (m->fire_time) {
			norc_clock_format(m->fire_time, t, sizeof(t));
			fprintf(f, "Fire time: %s\r\n", t);
		}
		norc_clock_format(m->started, t, sizeof(t));
		fprintf(f, "Started:   %s\r\n", t);
		norc_clock_format(m->ended, t, sizeof(t));
		fprintf(f, "Ended:     %s\r\n", t);
		char *link = log_link(cfg, m->instance_id);
		fprintf(f, "Log:       %s\r\n", link);
		free(link);
	}
	norc_clock_format(m->created, t, sizeof(t));
	fprintf(f, "\r\nAlert #%" PRId64 ", raised %s; `norc alert list --task %s` shows the "
		"task's alerts.\r\n", m->id, t, m->task_name);
	fclose(f);
	return b;
}

static json_t *time_or_null(int64_t t)
{
	if (!t)
		return json_null();
	char buf[40];
	norc_clock_format_iso(t, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static char *json_doc(const struct norc_config *cfg, const struct norc_alert_msg *m);

char *norc_notify_json(const struct norc_config *cfg, const struct norc_alert_msg *m)
{
	struct norc_alert_msg c = clean(m);
	char *d = json_doc(cfg, &c);
	clean_free(&c);
	return d;
}

static char *json_doc(const struct norc_config *cfg, const struct norc_alert_msg *m)
{
	char *subject = norc_notify_subject(m);
	char *text = m->detail ? norc_xasprintf("%s: %s", subject, m->detail) : norc_xstrdup(subject);
	json_t *inst = json_null();
	if (m->instance_id) {
		char *link = log_link(cfg, m->instance_id);
		inst = json_pack("{s:I, s:s, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s}",
				 "id", (json_int_t)m->instance_id, "status", status_text(m),
				 "attempt", m->attempt,
				 "exit_code", m->exit_code >= 0 ? json_integer(m->exit_code) : json_null(),
				 "signal", m->term_signal ? json_integer(m->term_signal) : json_null(),
				 "reason", str_or_null(m->reason), "host", str_or_null(m->host),
				 "executor_id", m->executor_id ? json_integer(m->executor_id) : json_null(),
				 "fire_time", time_or_null(m->fire_time),
				 "started", time_or_null(m->started), "ended", time_or_null(m->ended),
				 "log", link);
		free(link);
	}
	json_t *o = json_pack("{s:s, s:{s:I, s:s, s:o}, s:{s:I, s:s, s:s}, s:o, s:o}",
			      "text", text,
			      "alert", "id", (json_int_t)m->id, "kind", norc_alert_kind_name(m->kind),
			      "raised", time_or_null(m->created),
			      "task", "id", (json_int_t)m->task_id, "name", m->task_name, "type",
			      m->task_type, "detail", str_or_null(m->detail), "instance", inst);
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	free(subject);
	free(text);
	return s; /* NULL: not built (out of memory) */
}

struct source {
	const char *p;
	size_t left;
};

static size_t read_cb(char *buf, size_t size, size_t n, void *ud)
{
	struct source *s = ud;
	size_t k = size * n < s->left ? size * n : s->left;
	memcpy(buf, s->p, k);
	s->p += k;
	s->left -= k;
	return k;
}

static size_t discard_cb(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

/* The SMTP password: inline, or the first line of smtp_password_file. Caller frees. */
static char *smtp_password(const struct norc_config *cfg, char *err, size_t errlen)
{
	if (cfg->alerts.smtp_password)
		return norc_xstrdup(cfg->alerts.smtp_password);
	if (!cfg->alerts.smtp_password_file)
		return norc_xstrdup("");
	FILE *f = fopen(cfg->alerts.smtp_password_file, "re");
	char line[512] = "";
	if (!f || !fgets(line, sizeof(line), f)) {
		snprintf(err, errlen, "alerts.smtp_password_file %s cannot be read",
			 cfg->alerts.smtp_password_file);
		if (f)
			fclose(f);
		return NULL;
	}
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	return norc_xstrdup(line);
}

static int curl_fail(CURLcode c, const char *what, const char *ebuf, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s", what, ebuf[0] ? ebuf : curl_easy_strerror(c));
	return NORC_EIO;
}

int norc_notify_email(const struct norc_config *cfg, const struct norc_alert_msg *m, char *err,
		      size_t errlen)
{
	if (!cfg->alerts.smtp_url) {
		snprintf(err, errlen, "e-mail: alerts.smtp_url is not set in %s", cfg->file);
		return NORC_ECONFIG;
	}
	char *password = smtp_password(cfg, err, errlen);
	if (!password)
		return NORC_ECONFIG;
	char host[256] = "localhost", date[64], *from;
	gethostname(host, sizeof(host) - 1);
	from = cfg->alerts.from ? norc_xstrdup(cfg->alerts.from) : norc_xasprintf("norc@%s", host);
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	char *subject = norc_notify_subject(m), *text = norc_notify_body(cfg, m);
	char *to = one_line(m->email);
	char *msg = norc_xasprintf("Date: %s\r\nFrom: Norc <%s>\r\nTo: %s\r\nSubject: %s\r\n"
				   "Message-ID: <norc-alert-%" PRId64 ".%" PRId64 "@%s>\r\n"
				   "X-Norc-Alert: %" PRId64 "\r\nMIME-Version: 1.0\r\n"
				   "Content-Type: text/plain; charset=utf-8\r\n"
				   "Content-Transfer-Encoding: 8bit\r\n\r\n%s",
				   date, from, to, subject, m->id, m->created, strchr(from, '@') + 1,
				   m->id, text);
	struct curl_slist *rcpt = NULL;
	char *list = norc_xstrdup(m->email), *save = NULL;
	for (char *a = strtok_r(list, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
		char *r = norc_xasprintf("<%s>", a);
		rcpt = curl_slist_append(rcpt, r);
		free(r);
	}
	char *mail_from = norc_xasprintf("<%s>", from);
	struct source src = {msg, strlen(msg)};
	char ebuf[CURL_ERROR_SIZE] = "";
	CURL *c = curl_easy_init();
	int rc = NORC_OK;
	if (!c) {
		snprintf(err, errlen, "e-mail: libcurl cannot start");
		rc = NORC_ENOMEM;
	} else {
		const char *url = cfg->alerts.smtp_url;
		bool tls = strncmp(url, "smtps://", 8) == 0;
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
		curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from);
		curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(c, CURLOPT_READDATA, &src);
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)cfg->alerts.timeout_s);
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
		/* a password never crosses the network in the clear: STARTTLS is then required */
		if (cfg->alerts.smtp_user) {
			curl_easy_setopt(c, CURLOPT_USERNAME, cfg->alerts.smtp_user);
			curl_easy_setopt(c, CURLOPT_PASSWORD, password);
			if (!tls)
				curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
		} else if (!tls) {
			curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
		}
		CURLcode cc = curl_easy_perform(c);
		if (cc != CURLE_OK)
			rc = curl_fail(cc, "e-mail", ebuf, err, errlen);
		curl_easy_cleanup(c);
	}
	curl_slist_free_all(rcpt);
	free(mail_from);
	free(list);
	free(to);
	free(msg);
	free(subject);
	free(text);
	free(from);
	free(password);
	return rc;
}

int norc_notify_webhook(const struct norc_config *cfg, const struct norc_alert_msg *m, char *err,
			size_t errlen)
{
	char *doc = norc_notify_json(cfg, m);
	if (!doc) {
		snprintf(err, errlen, "webhook: the JSON document could not be built");
		return NORC_ENOMEM;
	}
	char hdr_id[64], ebuf[CURL_ERROR_SIZE] = "";
	snprintf(hdr_id, sizeof(hdr_id), "X-Norc-Alert: %" PRId64, m->id);
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	h = curl_slist_append(h, hdr_id);
	h = curl_slist_append(h, "Expect:");
	CURL *c = curl_easy_init();
	int rc = NORC_OK;
	if (!c) {
		snprintf(err, errlen, "webhook: libcurl cannot start");
		rc = NORC_ENOMEM;
	} else {
		curl_easy_setopt(c, CURLOPT_URL, m->webhook);
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, doc);
		curl_easy_setopt(c, CURLOPT_USERAGENT, "norc/" NORC_VERSION_STRING);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_cb);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)cfg->alerts.timeout_s);
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
		CURLcode cc = curl_easy_perform(c);
		long code = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		if (cc != CURLE_OK)
			rc = curl_fail(cc, "webhook", ebuf, err, errlen);
		else if (code < 200 || code > 299) {
			snprintf(err, errlen, "webhook: the server answered HTTP %ld", code);
			rc = NORC_EIO;
		}
		curl_easy_cleanup(c);
	}
	curl_slist_free_all(h);
	free(doc);
	return rc;
}
