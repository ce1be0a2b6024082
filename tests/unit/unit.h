/*
 * unit.h - what every check suite's main() does: run the suite, report, exit non-zero on any
 * failure.
 */
#ifndef NORC_UNIT_H
#define NORC_UNIT_H

#include <check.h>
#include <stdlib.h>

static inline int norc_unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
