/*
 * status.c - names of the status numbers (status.h).
 */
#include "status.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
	int n;
	const char *name;
} names[] = {
	{NORC_ST_CREATED, "CREATED"},     {NORC_ST_RUNNING, "RUNNING"},
	{NORC_ST_PAUSED, "PAUSED"},       {NORC_ST_STOPPING, "STOPPING"},
	{NORC_ST_SUSPENDED, "SUSPENDED"}, {NORC_ST_PAUSING, "PAUSING"},
	{NORC_ST_SUCCESS, "SUCCESS"},     {NORC_ST_ENDED, "ENDED"},
	{NORC_ST_KILLED, "KILLED"},       {NORC_ST_SKIPPED, "SKIPPED"},
	{NORC_ST_NOT_RUN, "NOT_RUN"},     {NORC_ST_HANDLED, "HANDLED"},
	{NORC_ST_FAILURE, "FAILURE"},     {NORC_ST_ERROR, "ERROR"},
	{NORC_ST_TIMEDOUT, "TIMEDOUT"},   {NORC_ST_INTERRUPTED, "INTERRUPTED"},
};

const char *norc_status_name(int s)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].n == s)
			return names[i].name;
	return "UNKNOWN";
}

int norc_status_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(names[i].name, s) == 0)
			return names[i].n;
	char *end;
	long v = strtol(s, &end, 10);
	if (*s && !*end && strcmp(norc_status_name((int)v), "UNKNOWN") != 0)
		return (int)v;
	return -1;
}
