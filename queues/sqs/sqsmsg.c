/*
 * sqsmsg.c - the pure parts of the SQSQueue plugin (see sqsmsg.h): bodies, names, answers,
 * and the table of held messages. No I/O, no host API.
 */
#include "sqsmsg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- bodies and names ---- */

int norc_sqsmsg_format(int64_t id, char *buf, size_t len)
{
	if (id < 1)
		return NORC_EINVAL;
	int n = snprintf(buf, len, "{\"instance_id\":%" PRId64 "}", id);
	return n < 0 || (size_t)n >= len ? NORC_EINVAL : NORC_OK;
}

int norc_sqsmsg_parse_body(const char *body, int64_t *id)
{
	json_error_t jerr;
	json_t *j = json_loads(body, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return NORC_EINVAL;
	json_t *v = json_object_get(j, "instance_id");
	int rc = NORC_EINVAL;
	if (json_is_object(j) && json_object_size(j) == 1 && json_is_integer(v) &&
	    json_integer_value(v) >= 1) {
		*id = (int64_t)json_integer_value(v);
		rc = NORC_OK;
	}
	json_decref(j);
	return rc;
}

bool norc_sqsmsg_valid_name(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 80)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return false;
	return true;
}

void norc_sqsmsg_oneline(const char *s, size_t n, char *out, size_t len)
{
	if (len == 0)
		return;
	size_t o = 0, i;
	for (i = 0; i < n && s[i] != '\n' && o + 1 < len; i++)
		out[o++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	if (i < n && s[i] != '\n' && len > 4) { /* cut: end with "..." */
		if (o > len - 4)
			o = len - 4;
		memcpy(out + o, "...", 4);
	}
}

/* ---- answers ---- */

static char *dup_string(const json_t *j)
{
	const char *s = json_string_value(j);
	return s ? strdup(s) : NULL;
}

int norc_sqsmsg_received_take(const json_t *answer, struct norc_sqsmsg_received *out,
			      char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!answer)
		return NORC_EAGAIN;
	if (!json_is_object(answer)) {
		snprintf(err, errlen, "the answer is not a JSON object");
		return NORC_EINVAL;
	}
	const json_t *msgs = json_object_get(answer, "Messages");
	if (!msgs || json_is_null(msgs) || (json_is_array(msgs) && json_array_size(msgs) == 0))
		return NORC_EAGAIN;
	const json_t *m = json_array_get(msgs, 0);
	if (!json_is_array(msgs) || !json_is_object(m)) {
		snprintf(err, errlen, "Messages is not a list of objects");
		return NORC_EINVAL;
	}
	const json_t *rh = json_object_get(m, "ReceiptHandle");
	const json_t *body = json_object_get(m, "Body");
	const json_t *mid = json_object_get(m, "MessageId");
	if (!json_is_string(rh) || !json_string_length(rh) || !json_is_string(body)) {
		snprintf(err, errlen, "a message without ReceiptHandle or Body");
		return NORC_EINVAL;
	}
	out->receipt = dup_string(rh);
	out->body = dup_string(body);
	out->message_id = json_is_string(mid) ? dup_string(mid) : strdup("");
	if (!out->receipt || !out->body || !out->message_id) {
		norc_sqsmsg_received_free(out);
		snprintf(err, errlen, "out of memory");
		return NORC_ENOMEM;
	}
	/* The count is a string in the JSON protocol ("2"); accept a number too. */
	const json_t *cnt = json_object_get(json_object_get(m, "Attributes"),
					    "ApproximateReceiveCount");
	if (json_is_integer(cnt)) {
		out->receives = (long)json_integer_value(cnt);
	} else if (json_is_string(cnt)) {
		char *end;
		errno = 0;
		long v = strtol(json_string_value(cnt), &end, 10);
		if (!errno && end != json_string_value(cnt) && !*end && v >= 0)
			out->receives = v;
	}
	return NORC_OK;
}

void norc_sqsmsg_received_free(struct norc_sqsmsg_received *m)
{
	free(m->message_id);
	free(m->receipt);
	free(m->body);
	memset(m, 0, sizeof(*m));
}

bool norc_sqsmsg_error(const char *body, size_t n, char *code, size_t codelen, char *message,
		       size_t msglen)
{
	code[0] = message[0] = '\0';
	json_error_t jerr;
	json_t *j = n ? json_loadb(body, n, 0, &jerr) : NULL;
	const char *type = json_string_value(json_object_get(j, "__type"));
	if (!type)
		type = json_string_value(json_object_get(j, "code"));
	const char *msg = json_string_value(json_object_get(j, "message"));
	if (!msg)
		msg = json_string_value(json_object_get(j, "Message"));
	bool got = type || msg;
	if (type) {
		const char *hash = strrchr(type, '#');
		type = hash ? hash + 1 : type;
		norc_sqsmsg_oneline(type, strlen(type), code, codelen);
	}
	if (msg)
		norc_sqsmsg_oneline(msg, strlen(msg), message, msglen);
	json_decref(j);
	return got;
}

/* ---- held messages ---- */

int norc_sqsmsg_hold(struct norc_sqsmsg_table *t, int64_t instance_id, const char *message_id,
		     const char *receipt, long receives, int64_t now_us)
{
	char *rh = strdup(receipt);
	if (!rh)
		return NORC_ENOMEM;
	for (size_t i = 0; *message_id && i < t->n; i++) {
		struct norc_sqsmsg_held *h = &t->v[i];
		if (strcmp(h->message_id, message_id) != 0)
			continue;
		free(h->receipt);
		h->receipt = rh;
		h->instance_id = instance_id;
		h->receives = receives;
		h->received_us = h->extended_us = now_us;
		return NORC_OK;
	}
	char *mid = strdup(message_id);
	if (!mid) {
		free(rh);
		return NORC_ENOMEM;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		struct norc_sqsmsg_held *v = realloc(t->v, cap * sizeof(*v));
		if (!v) {
			free(rh);
			free(mid);
			return NORC_ENOMEM;
		}
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = (struct norc_sqsmsg_held){
		.instance_id = instance_id,
		.message_id = mid,
		.receipt = rh,
		.receives = receives,
		.received_us = now_us,
		.extended_us = now_us,
	};
	return NORC_OK;
}

size_t norc_sqsmsg_find(const struct norc_sqsmsg_table *t, int64_t instance_id, size_t from)
{
	for (size_t i = from; i < t->n; i++)
		if (t->v[i].instance_id == instance_id)
			return i;
	return t->n;
}

void norc_sqsmsg_forget(struct norc_sqsmsg_table *t, size_t i)
{
	if (i >= t->n)
		return;
	free(t->v[i].message_id);
	free(t->v[i].receipt);
	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(t->v[0]));
	t->n--;
}

void norc_sqsmsg_table_free(struct norc_sqsmsg_table *t)
{
	while (t->n > 0)
		norc_sqsmsg_forget(t, t->n - 1);
	free(t->v);
	t->v = NULL;
	t->cap = 0;
}

bool norc_sqsmsg_due(const struct norc_sqsmsg_held *h, long visibility_s, int64_t now_us)
{
	return now_us - h->extended_us >= (int64_t)visibility_s * 500000;
}
