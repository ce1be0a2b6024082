/*
 * sqsmsg.h - the pure parts of the SQSQueue plugin, kept apart so a check suite can test them
 * without a server: message bodies (`{"instance_id":42}`), SQS queue names, the answers of
 * ReceiveMessage and of failed requests (JSON protocol), and the table of received messages
 * held until ack/nack. Compiled into sqsqueue.so and into tests/unit/test_sqs.
 *
 * Memory: strings returned or stored here are malloc'd and freed with free (or by the
 * function named); everything passed in is borrowed for the call. Nothing here logs.
 */
#ifndef NORC_SQSMSG_H
#define NORC_SQSMSG_H

#include <norc/plugin.h>

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- bodies and names ---- */

#define NORC_SQSMSG_BODY_MAX 40 /* `{"instance_id":N}` with any int64 N, and the NUL */

/* The message body for instance id (>= 1) into buf: `{"instance_id":42}`. NORC_OK, or
 * NORC_EINVAL when id < 1 or buf is too small. */
int norc_sqsmsg_format(int64_t id, char *buf, size_t len);

/* *id from a body that is exactly a JSON object with one member, "instance_id", an integer
 * >= 1 (whitespace allowed, nothing else). NORC_OK or NORC_EINVAL. */
int norc_sqsmsg_parse_body(const char *body, int64_t *id);

/* 1 to 80 characters of A-Z a-z 0-9 - _ (a standard queue; FIFO names end in ".fifo"). */
bool norc_sqsmsg_valid_name(const char *name);

/* Copy n bytes of s into out (size len, NUL'd) as one line: control characters become ' ',
 * the copy stops at the first newline, and "..." marks a cut. */
void norc_sqsmsg_oneline(const char *s, size_t n, char *out, size_t len);

/* ---- answers ---- */

/* One message of a ReceiveMessage answer. Strings malloc'd; free with
 * norc_sqsmsg_received_free (also after a failure). */
struct norc_sqsmsg_received {
	char *message_id;
	char *receipt;
	char *body;
	long receives; /* Attributes.ApproximateReceiveCount, 0 when absent */
};

/* Take the first message of a ReceiveMessage answer (NULL: an empty body, as local-aws-sqs
 * sends when nothing arrived). NORC_OK; NORC_EAGAIN when there is none (no Messages, or an
 * empty list); NORC_EINVAL with err filled when the answer or message is malformed;
 * NORC_ENOMEM. */
int norc_sqsmsg_received_take(const json_t *answer, struct norc_sqsmsg_received *out,
			      char *err, size_t errlen);
void norc_sqsmsg_received_free(struct norc_sqsmsg_received *m);

/* The error code and message of a failed request's JSON body ({"__type":
 * "com.amazonaws.sqs#QueueDoesNotExist","message":"..."}): code gets what follows the last
 * '#', message its first line. Both "" (and false returned) when body is not such JSON. */
bool norc_sqsmsg_error(const char *body, size_t n, char *code, size_t codelen, char *message,
		       size_t msglen);

/* ---- held messages ---- */

/* A message popped but not yet acked or nacked: what ack, nack and touch need. */
struct norc_sqsmsg_held {
	int64_t instance_id;
	char *message_id; /* owned */
	char *receipt;    /* owned: the latest receipt handle */
	long receives;    /* ApproximateReceiveCount at the latest receive */
	int64_t received_us;
	int64_t extended_us; /* when its visibility last started (receive or touch) */
};

/* A small unordered-by-contract array; zero-initialise it. */
struct norc_sqsmsg_table {
	struct norc_sqsmsg_held *v; /* owned */
	size_t n, cap;
};

/* Remember a received message. A message already held (same message_id: it came back after
 * its visibility ended) gets the new receipt and count instead of a second entry; another
 * message for the same instance id (a duplicate push) gets its own. Strings are copied.
 * NORC_OK or NORC_ENOMEM. */
int norc_sqsmsg_hold(struct norc_sqsmsg_table *t, int64_t instance_id, const char *message_id,
		     const char *receipt, long receives, int64_t now_us);

/* Index of the first entry at or after from held for instance_id, or t->n when none. */
size_t norc_sqsmsg_find(const struct norc_sqsmsg_table *t, int64_t instance_id, size_t from);

/* Forget entry i (< t->n): free its strings; later entries move down by one. */
void norc_sqsmsg_forget(struct norc_sqsmsg_table *t, size_t i);

/* Forget everything and free the array; the table is empty (and reusable) after. */
void norc_sqsmsg_table_free(struct norc_sqsmsg_table *t);

/* Whether h's visibility (visibility_s long) is half used up at now_us, so touch extends it. */
bool norc_sqsmsg_due(const struct norc_sqsmsg_held *h, long visibility_s, int64_t now_us);

#endif
