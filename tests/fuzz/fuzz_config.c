/*
 * fuzz_config.c - libFuzzer target: the config loader (core/config.c over libconfig). Any
 * input loads or is refused with a message naming the file; nothing leaks either way.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/norc-fuzz-config-%d.conf", (int)getpid());
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	fwrite(data, 1, size, f);
	fclose(f);
	struct norc_config *cfg = NULL;
	char err[600] = "";
	int rc = norc_config_load(path, &cfg, err, sizeof(err));
	if (rc != NORC_OK && (!err[0] || cfg))
		abort(); /* a refusal says why and hands nothing out */
	if (rc == NORC_OK) {
		FILE *null = fopen("/dev/null", "w");
		norc_config_print(cfg, null, true); /* every field printable */
		fclose(null);
	}
	norc_config_free(cfg);
	return 0;
}
