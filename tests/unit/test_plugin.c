/*
 * test_plugin.c - the real loader against the real test plugins of tests/plugins: each bad
 * file must be refused by exactly the check it breaks, and the message must say so.
 */
#include "plugin.h"

#include "unit.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef NORC_TEST_PLUGIN_DIR
#error "NORC_TEST_PLUGIN_DIR must be defined by the build"
#endif

static char *path_of(const char *file)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf), "%s/%s.so", NORC_TEST_PLUGIN_DIR, file);
	return buf;
}

#define STR_(x) #x
#define STR(x) STR_(x)
#define ABI_MINOR_STR STR(NORC_ABI_MINOR)

static const struct {
	const char *file;
	const char *check; /* NULL: passes every check */
	const char *detail;
} cases[] = {
	{"good", NULL, NULL},
	{"bad_magic", "magic", "0x12345678"},
	{"bad_abi_major", "abi", "ABI 2." ABI_MINOR_STR}, /* built with major + 1 */
	{"newer_minor", "abi", "upgrade norc"},
	{"small_size", "size", "claims 8 bytes"},
	{"oversized", "size", "claims 4096 bytes"},
	{"bad_kind", "kind", "kind 9"},
	{"no_descriptor", "descriptor", "norc_plugin"},
	{"no_validate", "ops", "validate"},
	{"unresolved", "dlopen", "norc_test_no_such_function"},
	{"writable", "owner", "go-w"},
	{"dup_a", NULL, NULL},
	{"init_fails", NULL, NULL}, /* checks pass; init is not run by check_file */
	{"init_hangs", NULL, NULL},
	{"init_crashes", NULL, NULL},
};

START_TEST(check_each_file)
{
	char err[1024] = "";
	int rc = norc_plugin_check_file(path_of(cases[_i].file), err, sizeof(err));
	if (!cases[_i].check) {
		ck_assert_msg(rc == 0, "%s should pass, got: %s", cases[_i].file, err);
		return;
	}
	ck_assert_int_eq(rc, NORC_EPLUGIN);
	char want[64];
	snprintf(want, sizeof(want), "check '%s' failed", cases[_i].check);
	ck_assert_msg(strstr(err, want), "%s: expected \"%s\" in: %s", cases[_i].file, want, err);
	ck_assert_msg(strstr(err, cases[_i].detail), "%s: expected \"%s\" in: %s", cases[_i].file,
		      cases[_i].detail, err);
}
END_TEST

START_TEST(load_register_and_duplicates)
{
	char err[1024] = "";
	ck_assert_int_eq(norc_plugin_load_file(path_of("good"), err, sizeof(err)), 0);
	const struct norc_plugin_entry *e = norc_plugin_find(NORC_KIND_TASK, "TestGood");
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->desc->version, "0.0-test");
	ck_assert_ptr_null(norc_plugin_find(NORC_KIND_QUEUE, "TestGood"));
	/* loading the same file again is recognised, not a duplicate-name error */
	ck_assert_int_eq(norc_plugin_load_file(path_of("good"), err, sizeof(err)), NORC_EEXIST);
	ck_assert_int_eq(norc_plugin_load_file(path_of("dup_a"), err, sizeof(err)), 0);
	ck_assert_int_eq(norc_plugin_load_file(path_of("dup_b"), err, sizeof(err)), NORC_EPLUGIN);
	ck_assert_msg(strstr(err, "check 'name' failed") && strstr(err, "TestDup") &&
			      strstr(err, "dup_a.so"), "got: %s", err);
	/* check_file sees the registry too */
	ck_assert_int_eq(norc_plugin_check_file(path_of("dup_b"), err, sizeof(err)), NORC_EPLUGIN);
	ck_assert_int_eq(norc_plugin_load_file(path_of("init_fails"), err, sizeof(err)), NORC_EPLUGIN);
	ck_assert_msg(strstr(err, "check 'init' failed") && strstr(err, "refuses to start"),
		      "got: %s", err);
	ck_assert_ptr_null(norc_plugin_find(NORC_KIND_TASK, "TestInitFails"));
	/* an init that never returns or crashes is tried in a probe child, and refused */
	ck_assert_int_eq(norc_plugin_load_file(path_of("init_hangs"), err, sizeof(err)), NORC_EPLUGIN);
	ck_assert_msg(strstr(err, "check 'init' failed") && strstr(err, "did not return within"),
		      "got: %s", err);
	ck_assert_int_eq(norc_plugin_load_file(path_of("init_crashes"), err, sizeof(err)),
			 NORC_EPLUGIN);
	ck_assert_msg(strstr(err, "init crashed") && strstr(err, "SIGSEGV"), "got: %s", err);
	ck_assert_uint_eq(norc_plugin_count(), 2);
	norc_plugin_unload_all();
	ck_assert_uint_eq(norc_plugin_count(), 0);
}
END_TEST

START_TEST(refuses_symlink_and_missing)
{
	char link[4096], err[1024];
	snprintf(link, sizeof(link), "%s/link-%d.so", NORC_TEST_PLUGIN_DIR, (int)getpid());
	ck_assert_int_eq(symlink(path_of("good"), link), 0);
	int rc = norc_plugin_check_file(link, err, sizeof(err));
	unlink(link);
	ck_assert_int_eq(rc, NORC_EPLUGIN);
	ck_assert_msg(strstr(err, "check 'file' failed") && strstr(err, "symlink"), "got: %s", err);
	rc = norc_plugin_check_file("/nonexistent/x.so", err, sizeof(err));
	ck_assert_int_eq(rc, NORC_EPLUGIN);
	ck_assert_msg(strstr(err, "No such file"), "got: %s", err);
	/* not a shared object at all */
	rc = norc_plugin_check_file("/etc/hostname", err, sizeof(err));
	ck_assert_int_eq(rc, NORC_EPLUGIN);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("plugin");
	TCase *tc = tcase_create("loader");
	tcase_add_loop_test(tc, check_each_file, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, load_register_and_duplicates);
	tcase_add_test(tc, refuses_symlink_and_missing);
	suite_add_tcase(s, tc);
	return norc_unit_run(s);
}
