/*
 * fuzz_sigv4.c - libFuzzer target: the SigV4 canonicalizer (core/aws.c). The input is split
 * into query parameters ("name=value&..."); the canonical query must hold only unreserved
 * characters and %XX escapes, be sorted by name, and decode back to the same pairs; a URI
 * encoding must decode back to its input.
 */
#include "aws.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Decode %XX escapes of s[0..n) into out (NUL-terminated); abort on anything else. */
static size_t decode(const char *s, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= n)
				abort();
			if (!isxdigit((unsigned char)s[i + 1]) || !isxdigit((unsigned char)s[i + 2]) ||
			    islower((unsigned char)s[i + 1]) || islower((unsigned char)s[i + 2]))
				abort(); /* two uppercase hex digits */
			char hex[3] = {s[i + 1], s[i + 2], 0};
			out[o++] = (char)strtol(hex, NULL, 16);
			i += 2;
		} else if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
			out[o++] = (char)c;
		} else {
			abort(); /* not unreserved, not escaped */
		}
	}
	out[o] = '\0';
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 2000 || memchr(data, 0, size))
		return 0;
	char *in = malloc(size + 1);
	memcpy(in, data, size);
	in[size] = '\0';
	/* a URI encoding decodes back to its input */
	char *enc = norc_aws_uri_encode(in, false);
	char *dec = malloc(strlen(enc) + 1);
	if (decode(enc, strlen(enc), dec) != size || memcmp(dec, in, size) != 0)
		abort();
	free(dec);
	free(enc);
	/* parameters */
	struct norc_aws_param p[16];
	size_t n = 0;
	for (char *tok = in, *next; tok && n < 16; tok = next) {
		next = strchr(tok, '&');
		if (next)
			*next++ = '\0';
		char *eq = strchr(tok, '=');
		if (eq)
			*eq = '\0';
		p[n++] = (struct norc_aws_param){tok, eq ? eq + 1 : NULL};
	}
	char *q = norc_aws_canonical_query(p, n);
	if (!q)
		abort();
	/* every pair present, in sorted order, each decoding to a given pair */
	size_t pairs = 0;
	const char *prev = NULL;
	size_t prevlen = 0;
	for (char *s = q; *s || (pairs == 0 && n > 0);) {
		char *amp = strchr(s, '&');
		size_t len = amp ? (size_t)(amp - s) : strlen(s);
		char *eq = memchr(s, '=', len);
		if (!eq)
			abort(); /* always name=value, "name=" for empty values */
		if (prev) {
			size_t m = prevlen < (size_t)(eq - s) ? prevlen : (size_t)(eq - s);
			int c = memcmp(prev, s, m);
			if (c > 0 || (c == 0 && prevlen > (size_t)(eq - s)))
				abort(); /* sorted by encoded name */
		}
		char name[4100], value[4100];
		decode(s, (size_t)(eq - s), name);
		decode(eq + 1, len - (size_t)(eq - s) - 1, value);
		bool found = false;
		for (size_t i = 0; i < n && !found; i++)
			found = strcmp(p[i].name, name) == 0 &&
				strcmp(p[i].value ? p[i].value : "", value) == 0;
		if (!found)
			abort();
		prev = s;
		prevlen = (size_t)(eq - s);
		pairs++;
		if (!amp)
			break;
		s = amp + 1;
	}
	if (pairs != n)
		abort();
	free(q);
	free(in);
	return 0;
}
