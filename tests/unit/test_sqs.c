/*
 * test_sqs.c - the pure parts of the SQSQueue plugin (queues/sqs/sqsmsg.c): message bodies
 * both ways (only exactly {"instance_id":N} is taken), queue names, ReceiveMessage answers
 * (empty, no messages, malformed, receive counts as strings), error bodies, one-line cuts,
 * and the held-message table (replace on redelivery, duplicates, forget, due for touch).
 * The plugin against a server is checked by integration/sqsplugin.sh.
 */
#include "sqsmsg.h"

#include "unit.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* ---- bodies and names ---- */

START_TEST(test_format)
{
	char buf[NORC_SQSMSG_BODY_MAX];
	ck_assert_int_eq(norc_sqsmsg_format(42, buf, sizeof(buf)), NORC_OK);
	ck_assert_str_eq(buf, "{\"instance_id\":42}");
	ck_assert_int_eq(norc_sqsmsg_format(INT64_MAX, buf, sizeof(buf)), NORC_OK);
	ck_assert_str_eq(buf, "{\"instance_id\":9223372036854775807}");
	ck_assert_int_eq(norc_sqsmsg_format(0, buf, sizeof(buf)), NORC_EINVAL);
	ck_assert_int_eq(norc_sqsmsg_format(-5, buf, sizeof(buf)), NORC_EINVAL);
	ck_assert_int_eq(norc_sqsmsg_format(42, buf, 10), NORC_EINVAL);
	int64_t id = 0;
	ck_assert_int_eq(norc_sqsmsg_format(123456789, buf, sizeof(buf)), NORC_OK);
	ck_assert_int_eq(norc_sqsmsg_parse_body(buf, &id), NORC_OK);
	ck_assert_int_eq(id, 123456789);
}
END_TEST

static const struct {
	const char *body;
	int rc;
	int64_t id;
} bodies[] = {
	{"{\"instance_id\":42}", NORC_OK, 42},
	{" { \"instance_id\" : 7 }\n", NORC_OK, 7},
	{"{\"instance_id\":9223372036854775807}", NORC_OK, INT64_MAX},
	{"{\"instance_id\":0}", NORC_EINVAL, 0},
	{"{\"instance_id\":-1}", NORC_EINVAL, 0},
	{"{\"instance_id\":\"42\"}", NORC_EINVAL, 0},
	{"{\"instance_id\":4.2}", NORC_EINVAL, 0},
	{"{\"instance_id\":42,\"cmd\":\"rm -rf /\"}", NORC_EINVAL, 0},
	{"{\"instance_id\":42,\"instance_id\":43}", NORC_EINVAL, 0},
	{"{\"instanceid\":42}", NORC_EINVAL, 0},
	{"{\"instance_id\":42} trailing", NORC_EINVAL, 0},
	{"[42]", NORC_EINVAL, 0},
	{"42", NORC_EINVAL, 0},
	{"run job 42", NORC_EINVAL, 0},
	{"", NORC_EINVAL, 0},
	{"{}", NORC_EINVAL, 0},
};

START_TEST(test_parse_body)
{
	int64_t id = 0;
	ck_assert_int_eq(norc_sqsmsg_parse_body(bodies[_i].body, &id), bodies[_i].rc);
	if (bodies[_i].rc == NORC_OK)
		ck_assert_int_eq(id, bodies[_i].id);
}
END_TEST

START_TEST(test_names)
{
	char n80[81], n81[82];
	memset(n80, 'a', 80);
	n80[80] = '\0';
	memset(n81, 'a', 81);
	n81[81] = '\0';
	ck_assert(norc_sqsmsg_valid_name("jobs"));
	ck_assert(norc_sqsmsg_valid_name("Norc-jobs_2"));
	ck_assert(norc_sqsmsg_valid_name(n80));
	ck_assert(!norc_sqsmsg_valid_name(n81));
	ck_assert(!norc_sqsmsg_valid_name(""));
	ck_assert(!norc_sqsmsg_valid_name("jobs.fifo"));
	ck_assert(!norc_sqsmsg_valid_name("a b"));
	ck_assert(!norc_sqsmsg_valid_name("a/b"));
	ck_assert(!norc_sqsmsg_valid_name("\xc3\xa9"));
}
END_TEST

START_TEST(test_oneline)
{
	char out[16];
	norc_sqsmsg_oneline("a\tb\rc", 5, out, sizeof(out));
	ck_assert_str_eq(out, "a b c");
	norc_sqsmsg_oneline("first\nsecond", 12, out, sizeof(out));
	ck_assert_str_eq(out, "first");
	norc_sqsmsg_oneline("0123456789abcdefghij", 20, out, sizeof(out));
	ck_assert_str_eq(out, "0123456789ab...");
	norc_sqsmsg_oneline("0123456789abcde", 15, out, sizeof(out));
	ck_assert_str_eq(out, "0123456789abcde");
	norc_sqsmsg_oneline("abc", 0, out, sizeof(out));
	ck_assert_str_eq(out, "");
}
END_TEST

/* ---- answers ---- */

static int take(const char *text, struct norc_sqsmsg_received *m)
{
	char err[128];
	json_error_t jerr;
	json_t *j = text ? json_loads(text, 0, &jerr) : NULL;
	if (text)
		ck_assert_ptr_nonnull(j);
	int rc = norc_sqsmsg_received_take(j, m, err, sizeof(err));
	json_decref(j);
	return rc;
}

START_TEST(test_receive_answers)
{
	struct norc_sqsmsg_received m;
	ck_assert_int_eq(take(NULL, &m), NORC_EAGAIN);
	ck_assert_int_eq(take("{}", &m), NORC_EAGAIN);
	ck_assert_int_eq(take("{\"Messages\":[]}", &m), NORC_EAGAIN);
	ck_assert_int_eq(take("{\"Messages\":null}", &m), NORC_EAGAIN);
	ck_assert_int_eq(take("[]", &m), NORC_EINVAL);
	ck_assert_int_eq(take("{\"Messages\":{}}", &m), NORC_EINVAL);
	ck_assert_int_eq(take("{\"Messages\":[{\"Body\":\"x\"}]}", &m), NORC_EINVAL);
	ck_assert_int_eq(take("{\"Messages\":[{\"ReceiptHandle\":\"\",\"Body\":\"x\"}]}", &m),
			 NORC_EINVAL);
	ck_assert_int_eq(take("{\"Messages\":[{\"ReceiptHandle\":\"rh\"}]}", &m), NORC_EINVAL);

	ck_assert_int_eq(take("{\"Messages\":[{\"Body\":\"{\\\"instance_id\\\":42}\",\"MessageId\":"
			      "\"m1\",\"ReceiptHandle\":\"rh1\",\"Attributes\":"
			      "{\"ApproximateReceiveCount\":\"3\"}}]}", &m),
			 NORC_OK);
	ck_assert_str_eq(m.body, "{\"instance_id\":42}");
	ck_assert_str_eq(m.message_id, "m1");
	ck_assert_str_eq(m.receipt, "rh1");
	ck_assert_int_eq(m.receives, 3);
	norc_sqsmsg_received_free(&m);

	ck_assert_int_eq(take("{\"Messages\":[{\"Body\":\"b\",\"ReceiptHandle\":\"rh\","
			      "\"Attributes\":{\"ApproximateReceiveCount\":5}}]}", &m),
			 NORC_OK);
	ck_assert_int_eq(m.receives, 5);
	ck_assert_str_eq(m.message_id, "");
	norc_sqsmsg_received_free(&m);
	ck_assert_int_eq(take("{\"Messages\":[{\"Body\":\"b\",\"ReceiptHandle\":\"rh\","
			      "\"Attributes\":{\"ApproximateReceiveCount\":\"x\"}}]}", &m),
			 NORC_OK);
	ck_assert_int_eq(m.receives, 0);
	norc_sqsmsg_received_free(&m);
	norc_sqsmsg_received_free(&m); /* twice is fine */
}
END_TEST

START_TEST(test_error_bodies)
{
	char code[64], msg[64];
	const char *b = "{\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\",\"message\":\"The "
			"specified queue does not exist.\"}";
	ck_assert(norc_sqsmsg_error(b, strlen(b), code, sizeof(code), msg, sizeof(msg)));
	ck_assert_str_eq(code, "QueueDoesNotExist");
	ck_assert_str_eq(msg, "The specified queue does not exist.");
	b = "{\"__type\":\"InvalidSignatureException\",\"Message\":\"line one\\nCanonical: x\"}";
	ck_assert(norc_sqsmsg_error(b, strlen(b), code, sizeof(code), msg, sizeof(msg)));
	ck_assert_str_eq(code, "InvalidSignatureException");
	ck_assert_str_eq(msg, "line one");
	b = "SignatureDoesNotMatch\n--- canonical request";
	ck_assert(!norc_sqsmsg_error(b, strlen(b), code, sizeof(code), msg, sizeof(msg)));
	ck_assert_str_eq(code, "");
	ck_assert_str_eq(msg, "");
	ck_assert(!norc_sqsmsg_error("", 0, code, sizeof(code), msg, sizeof(msg)));
	ck_assert(!norc_sqsmsg_error("{}", 2, code, sizeof(code), msg, sizeof(msg)));
}
END_TEST

/* ---- held messages ---- */

START_TEST(test_table)
{
	struct norc_sqsmsg_table t = {0};
	ck_assert_int_eq(norc_sqsmsg_find(&t, 1, 0), 0);
	for (int i = 1; i <= 20; i++) { /* grows past its first capacity */
		char mid[16], rh[16];
		snprintf(mid, sizeof(mid), "m%d", i);
		snprintf(rh, sizeof(rh), "rh%d", i);
		ck_assert_int_eq(norc_sqsmsg_hold(&t, i, mid, rh, 1, 1000), NORC_OK);
	}
	ck_assert_uint_eq(t.n, 20);
	/* m5 came back after its visibility: same entry, new receipt and count */
	ck_assert_int_eq(norc_sqsmsg_hold(&t, 5, "m5", "rh5b", 2, 5000), NORC_OK);
	ck_assert_uint_eq(t.n, 20);
	size_t i = norc_sqsmsg_find(&t, 5, 0);
	ck_assert_uint_eq(i, 4);
	ck_assert_str_eq(t.v[i].receipt, "rh5b");
	ck_assert_int_eq(t.v[i].receives, 2);
	ck_assert_int_eq(t.v[i].extended_us, 5000);
	ck_assert_uint_eq(norc_sqsmsg_find(&t, 5, i + 1), t.n);
	/* a duplicate push of instance 5: a second entry */
	ck_assert_int_eq(norc_sqsmsg_hold(&t, 5, "m5dup", "rh5dup", 1, 6000), NORC_OK);
	ck_assert_uint_eq(t.n, 21);
	size_t j = norc_sqsmsg_find(&t, 5, i + 1);
	ck_assert_uint_eq(j, 20);
	/* forget both as ack does */
	for (i = norc_sqsmsg_find(&t, 5, 0); i < t.n; i = norc_sqsmsg_find(&t, 5, i))
		norc_sqsmsg_forget(&t, i);
	ck_assert_uint_eq(t.n, 19);
	ck_assert_uint_eq(norc_sqsmsg_find(&t, 5, 0), t.n);
	ck_assert_int_eq(t.v[4].instance_id, 6); /* order kept */
	ck_assert_str_eq(t.v[4].receipt, "rh6");
	norc_sqsmsg_forget(&t, 99); /* out of range: nothing */
	ck_assert_uint_eq(t.n, 19);
	norc_sqsmsg_table_free(&t);
	ck_assert_uint_eq(t.n, 0);
	ck_assert_int_eq(norc_sqsmsg_hold(&t, 1, "x", "y", 1, 0), NORC_OK); /* reusable */
	norc_sqsmsg_table_free(&t);
}
END_TEST

START_TEST(test_due)
{
	struct norc_sqsmsg_held h = {.extended_us = 1000000};
	ck_assert(!norc_sqsmsg_due(&h, 30, 1000000));
	ck_assert(!norc_sqsmsg_due(&h, 30, 1000000 + 14999999));
	ck_assert(norc_sqsmsg_due(&h, 30, 1000000 + 15000000));
	ck_assert(norc_sqsmsg_due(&h, 1, 1000000 + 500000));
	ck_assert(norc_sqsmsg_due(&h, 43200, 1000000 + (int64_t)21600 * 1000000));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sqs");
	TCase *tc = tcase_create("sqsmsg");
	tcase_add_test(tc, test_format);
	tcase_add_loop_test(tc, test_parse_body, 0, (int)(sizeof(bodies) / sizeof(bodies[0])));
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_oneline);
	tcase_add_test(tc, test_receive_answers);
	tcase_add_test(tc, test_error_bodies);
	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_due);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return norc_unit_run(suite()); }
