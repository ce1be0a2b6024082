/*
 * fuzz_cron.c - libFuzzer target: the cron parser (core/cron.c). Any input either parses or
 * is refused with a message; what parses formats back to text that parses to the same rule,
 * and its next fire times in a zone with DST are strictly increasing.
 */
#include "cron.h"
#include <norc/plugin.h>
#include "tz.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct norc_tz *tz;
	if (!tz && norc_tz_load("Europe/Berlin", &tz, NULL, 0) != NORC_OK)
		abort();
	char text[512];
	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct norc_cron c, again;
	char err[300], fmt[NORC_CRON_TEXT_MAX];
	if (norc_cron_parse(text, NULL, NULL, &c, err, sizeof(err)) != NORC_OK) {
		if (!err[0])
			abort(); /* a refusal always says why */
		return 0;
	}
	if (norc_cron_format(&c, fmt, sizeof(fmt)) != NORC_OK ||
	    norc_cron_parse(fmt, NULL, NULL, &again, err, sizeof(err)) != NORC_OK ||
	    !norc_cron_equal(&c, &again))
		abort(); /* formatting must round-trip */
	int64_t t = 1774825200LL * 1000000; /* around a DST change in Europe/Berlin */
	for (int i = 0; i < 4; i++) {
		int64_t next;
		if (norc_cron_next(&c, tz, t, &next) != NORC_OK)
			break;
		if (next <= t)
			abort(); /* time must move forward */
		t = next;
	}
	return 0;
}
