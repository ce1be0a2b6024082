/*
 * test_core.c - small pure pieces: time parsing and formatting, parameters and their JSON,
 * status names, object names, the daemon log line format.
 */
#include "clock.h"
#include "log.h"
#include "model.h"
#include "params.h"
#include "runas.h"
#include "status.h"

#include "unit.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define NOW INT64_C(1764000000000000) /* 2025-11-24 16:00:00Z */

static const struct {
	const char *in;
	int rc;
	int64_t want;
} times[] = {
	{"now", 0, NOW},
	{"+90", 0, NOW + 90 * NORC_US_PER_SEC},
	{"-30", 0, NOW - 30 * NORC_US_PER_SEC},
	{"+5m", 0, NOW + 300 * NORC_US_PER_SEC},
	{"+2h", 0, NOW + 7200 * NORC_US_PER_SEC},
	{"+1d", 0, NOW + 86400 * NORC_US_PER_SEC},
	{"@0", 0, 0},
	{"@1700000000", 0, INT64_C(1700000000) * NORC_US_PER_SEC},
	{"2026-11-24 10:00", 0, INT64_C(1795514400) * NORC_US_PER_SEC},
	{"2026-11-24T10:00:05Z", 0, INT64_C(1795514405) * NORC_US_PER_SEC},
	{"2024-02-29 00:00:00", 0, INT64_C(1709164800) * NORC_US_PER_SEC},
	{"2026-02-30 00:00", NORC_EINVAL, 0},
	{"2026-13-01 00:00", NORC_EINVAL, 0},
	{"2026-11-24 25:00", NORC_EINVAL, 0},
	{"2026-11-24 10:00 junk", NORC_EINVAL, 0},
	{"+5x", NORC_EINVAL, 0},
	{"+", NORC_EINVAL, 0},
	{"tomorrow", NORC_EINVAL, 0},
	{"", NORC_EINVAL, 0},
	{"@-5", NORC_EINVAL, 0},
};

START_TEST(clock_parse)
{
	int64_t out = -1;
	int rc = norc_clock_parse(times[_i].in, NOW, &out);
	ck_assert_msg(rc == times[_i].rc, "'%s': rc %d", times[_i].in, rc);
	if (rc == 0)
		ck_assert_msg(out == times[_i].want, "'%s': %lld != %lld", times[_i].in,
			      (long long)out, (long long)times[_i].want);
}
END_TEST

START_TEST(clock_format_and_log_stamp)
{
	char buf[64];
	norc_clock_format(INT64_C(1795514405) * NORC_US_PER_SEC + 123456, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2026-11-24 10:00:05Z");
	norc_clock_format(0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "-");
	norc_clock_format_iso(INT64_C(1795514405) * NORC_US_PER_SEC + 123456, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2026-11-24T10:00:05.123456Z");
	norc_log_stamp(INT64_C(1292564301) * NORC_US_PER_SEC + 391439, buf, sizeof(buf));
	ck_assert_str_eq(buf, "[2010/12/17 05:38:21.391439]"); /* the original's INSTALL example */
	int64_t d;
	ck_assert_int_eq(norc_clock_parse_duration("90", &d), 0);
	ck_assert_int_eq(d, 90);
	ck_assert_int_eq(norc_clock_parse_duration("5m", &d), 0);
	ck_assert_int_eq(d, 300);
	ck_assert_int_eq(norc_clock_parse_duration("-5", &d), NORC_EINVAL);
	ck_assert_int_eq(norc_clock_parse_duration("5mm", &d), NORC_EINVAL);
	ck_assert_int_eq(norc_clock_parse_duration("99999999999999999999", &d), NORC_EINVAL);
}
END_TEST

START_TEST(params_roundtrip)
{
	struct norc_params *p = norc_params_new();
	char err[256];
	ck_assert_int_eq(norc_params_set_kv(p, "command=echo a=b \"q\"", err, sizeof(err)), 0);
	ck_assert_int_eq(norc_params_set_kv(p, "url=http://x/?a=1", err, sizeof(err)), 0);
	ck_assert_int_eq(norc_params_set_kv(p, "url=http://y", err, sizeof(err)), 0); /* replaces */
	ck_assert_int_eq(norc_params_set_kv(p, "noequals", err, sizeof(err)), NORC_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "key=value"));
	ck_assert_int_eq(norc_params_set_kv(p, "=v", err, sizeof(err)), NORC_EINVAL);
	ck_assert_int_eq(norc_params_set_kv(p, "a b=v", err, sizeof(err)), NORC_EINVAL);
	ck_assert_uint_eq(norc_params_count(p), 2);
	char *json = norc_params_to_json(p);
	ck_assert_str_eq(json, "{\"command\":\"echo a=b \\\"q\\\"\",\"url\":\"http://y\"}");
	struct norc_params *q;
	ck_assert_int_eq(norc_params_from_json(json, &q, err, sizeof(err)), 0);
	ck_assert_str_eq(norc_params_get(q, "command"), "echo a=b \"q\"");
	ck_assert_ptr_null(norc_params_get(q, "nope"));
	norc_params_free(q);
	ck_assert_int_eq(norc_params_from_json("[1]", &q, err, sizeof(err)), NORC_EINVAL);
	ck_assert_int_eq(norc_params_from_json("{\"a\":1}", &q, err, sizeof(err)), NORC_EINVAL);
	free(json);
	norc_params_free(p);
}
END_TEST

START_TEST(status_names)
{
	ck_assert_str_eq(norc_status_name(7), "SUCCESS");
	ck_assert_str_eq(norc_status_name(16), "INTERRUPTED");
	ck_assert_str_eq(norc_status_name(10), "SKIPPED");
	ck_assert_str_eq(norc_status_name(11), "NOT_RUN");
	ck_assert_str_eq(norc_status_name(17), "UNKNOWN");
	ck_assert_int_eq(norc_status_parse("not_run"), 11);
	ck_assert(norc_status_is_final(NORC_ST_NOT_RUN) && !norc_status_is_failure(NORC_ST_NOT_RUN));
	ck_assert_int_eq(norc_status_parse("failure"), 13);
	ck_assert_int_eq(norc_status_parse("14"), 14);
	ck_assert_int_eq(norc_status_parse("17"), -1);
	ck_assert_int_eq(norc_status_parse("nope"), -1);
	ck_assert(norc_status_is_final(NORC_ST_SUCCESS) && !norc_status_is_final(NORC_ST_PAUSING));
	ck_assert(norc_status_is_failure(NORC_ST_ERROR) && !norc_status_is_failure(NORC_ST_HANDLED));
}
END_TEST

static const struct {
	const char *name;
	int ok;
} names[] = {
	{"DemoTask", 1}, {"backup.daily-2", 1}, {"_x", 1}, {"9lives", 1},
	{"123", 0},      {"", 0},               {"a b", 0}, {"a/b", 0},
	{"-x", 0},       {".x", 0},             {"x~1", 0}, {"ü", 0},
};

/* Task limits: normalized to bytes and seconds; bad items named; each kind once. */
START_TEST(runas_limits)
{
	static const struct {
		const char *in, *out; /* out NULL: refused */
	} cases[] = {
		{"", ""},
		{"cpu=90", "cpu=90"},
		{"cpu=2m, mem=512M", "cpu=120,mem=536870912"},
		{"files=1024,procs=200,fsize=1G,core=0", "files=1024,procs=200,fsize=1073741824,core=0"},
		{"mem=64KB", "mem=65536"},
		{"cpu=0", NULL},
		{"cpu=soon", NULL},
		{"files=1K", NULL},
		{"files=-1", NULL},
		{"mem=1X", NULL},
		{"stack=1M", NULL},
		{"cpu", NULL},
		{"files=10,files=20", NULL},
		{"mem=99999999999T", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char norm[256], err[400] = "";
		int rc = norc_runas_limits_parse(cases[i].in, norm, sizeof(norm), err, sizeof(err));
		if (cases[i].out) {
			ck_assert_msg(rc == NORC_OK, "%s: %s", cases[i].in, err);
			ck_assert_str_eq(norm, cases[i].out);
		} else {
			ck_assert_msg(rc == NORC_EINVAL, "%s accepted as %s", cases[i].in, norm);
			ck_assert_msg(strstr(err, "give KIND=VALUE"), "%s", err);
		}
	}
	char err[300];
	ck_assert_int_eq(norc_runas_check("nobody", err, sizeof(err)), NORC_OK);
	ck_assert_int_eq(norc_runas_check("www-data:adm", err, sizeof(err)), NORC_OK);
	ck_assert_int_eq(norc_runas_check("a b", err, sizeof(err)), NORC_EINVAL);
	ck_assert_int_eq(norc_runas_check("-x", err, sizeof(err)), NORC_EINVAL);
	ck_assert_int_eq(norc_runas_check("u:", err, sizeof(err)), NORC_EINVAL);
	ck_assert_int_eq(norc_runas_check("", err, sizeof(err)), NORC_EINVAL);
}
END_TEST

START_TEST(object_names)
{
	char err[256];
	int rc = norc_model_check_name("task", names[_i].name, 128, err, sizeof(err));
	ck_assert_msg((rc == 0) == names[_i].ok, "'%s': rc %d %s", names[_i].name, rc, err);
	if (rc)
		ck_assert_ptr_nonnull(strstr(err, "task name"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("core");
	TCase *tc = tcase_create("pure");
	tcase_add_loop_test(tc, clock_parse, 0, (int)(sizeof(times) / sizeof(times[0])));
	tcase_add_test(tc, clock_format_and_log_stamp);
	tcase_add_test(tc, params_roundtrip);
	tcase_add_test(tc, status_names);
	tcase_add_test(tc, runas_limits);
	tcase_add_loop_test(tc, object_names, 0, (int)(sizeof(names) / sizeof(names[0])));
	suite_add_tcase(s, tc);
	return norc_unit_run(s);
}
