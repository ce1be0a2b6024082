/*
 * test_aws.c - the pure parts of the S3 path: norc_aws's URI encoding, canonical query,
 * SHA-256, backoff and credentials loading (core/aws.c), and the backup plugins' streaming
 * gzip (backups/common/gz.c): a multi-MB round trip fed in odd chunk sizes, raw passthrough,
 * zlib objects as the original Norc stored them, concatenated gzip members, and corrupt or
 * truncated input. The signing itself is checked against botocore by integration/s3sign.sh.
 */
#include "aws.h"
#include "gz.h"

#include "unit.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* ---- encoding ---- */

static const struct {
	const char *in;
	bool keep_slash;
	const char *want;
} enc_cases[] = {
	{"", false, ""},
	{"abcXYZ019-_.~", false, "abcXYZ019-_.~"},
	{"a b", false, "a%20b"},
	{"a+b", false, "a%2Bb"},
	{"k=v", false, "k%3Dv"},
	{"dir/file", false, "dir%2Ffile"},
	{"dir/file", true, "dir/file"},
	{"\xc3\xa9-1", true, "%C3%A9-1"},
	{"norc_logs/tasks/Cmd/a b+c=d/\xc3\xa9-1", true,
	 "norc_logs/tasks/Cmd/a%20b%2Bc%3Dd/%C3%A9-1"},
	{"%*'()!&?#", false, "%25%2A%27%28%29%21%26%3F%23"},
	{"\x01\x7f\xff", false, "%01%7F%FF"},
};

START_TEST(test_uri_encode)
{
	char *got = norc_aws_uri_encode(enc_cases[_i].in, enc_cases[_i].keep_slash);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, enc_cases[_i].want);
	free(got);
}
END_TEST

struct qcase {
	size_t n;
	struct norc_aws_param p[4];
	const char *want;
};

static const struct qcase query_cases[] = {
	{0, {{NULL, NULL}}, ""},
	{2, {{"prefix", "dir/"}, {"list-type", "2"}}, "list-type=2&prefix=dir%2F"},
	{1, {{"uploads", NULL}}, "uploads="},
	{1, {{"uploads", ""}}, "uploads="},
	{2, {{"list-type", "2"}, {"continuation-token", "abc=="}},
	 "continuation-token=abc%3D%3D&list-type=2"},
	{1, {{"prefix", "a b+c"}}, "prefix=a%20b%2Bc"},
	{3, {{"b", "2"}, {"a", "z"}, {"a", "y"}}, "a=y&a=z&b=2"},
	{2, {{"a", "1"}, {"B", "2"}}, "B=2&a=1"}, /* byte order: upper case first */
	{2, {{"a b", "1"}, {"a", "2"}}, "a=2&a%20b=1"},
	{2, {{"prefix", "\xc3\xa9/"}, {"max-keys", "10"}}, "max-keys=10&prefix=%C3%A9%2F"},
};

START_TEST(test_canonical_query)
{
	const struct qcase *c = &query_cases[_i];
	char *got = norc_aws_canonical_query(c->p, c->n);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, c->want);
	free(got);
}
END_TEST

/* ---- sha256, backoff ---- */

START_TEST(test_sha256)
{
	char hex[NORC_AWS_SHA256_HEX];
	ck_assert_int_eq(norc_aws_sha256_mem("", 0, hex), NORC_OK);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	ck_assert_int_eq(norc_aws_sha256_mem("abc", 3, hex), NORC_OK);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

	/* a file of 200000 bytes: fd, streaming and memory agree */
	char path[] = "/tmp/norc-test-aws.XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	static unsigned char buf[200000];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7 + i / 300);
	ck_assert_int_eq(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	char a[NORC_AWS_SHA256_HEX], b[NORC_AWS_SHA256_HEX], c[NORC_AWS_SHA256_HEX];
	uint64_t size = 0;
	ck_assert_int_eq(norc_aws_sha256_fd(fd, a, &size), NORC_OK);
	ck_assert_uint_eq(size, sizeof(buf));
	ck_assert_int_eq(norc_aws_sha256_mem(buf, sizeof(buf), b), NORC_OK);
	struct norc_aws_sha256 h;
	ck_assert_int_eq(norc_aws_sha256_begin(&h), NORC_OK);
	ck_assert_int_eq(norc_aws_sha256_update(&h, buf, 1000), NORC_OK);
	ck_assert_int_eq(norc_aws_sha256_update(&h, buf + 1000, sizeof(buf) - 1000), NORC_OK);
	ck_assert_int_eq(norc_aws_sha256_end(&h, c), NORC_OK);
	ck_assert_str_eq(a, b);
	ck_assert_str_eq(a, c);
	close(fd);
}
END_TEST

START_TEST(test_backoff)
{
	ck_assert_int_eq(norc_aws_backoff_ms(1), 500);
	ck_assert_int_eq(norc_aws_backoff_ms(2), 1000);
	ck_assert_int_eq(norc_aws_backoff_ms(3), 2000);
	ck_assert_int_eq(norc_aws_backoff_ms(6), 16000);
	ck_assert_int_eq(norc_aws_backoff_ms(7), 20000);
	ck_assert_int_eq(norc_aws_backoff_ms(100), 20000);
}
END_TEST

/* ---- credentials ---- */

static char creds_path[64];

static void write_creds(const char *text)
{
	snprintf(creds_path, sizeof(creds_path), "/tmp/norc-test-creds.XXXXXX");
	int fd = mkstemp(creds_path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static const char creds_text[] =
	"# shared credentials\n"
	"[default]\n"
	"aws_access_key_id = AKIDDEFAULT\n"
	"aws_secret_access_key = secret/with=odd:chars+\n"
	"\n"
	"; another comment\n"
	"[prod]\n"
	"  aws_access_key_id=AKIDPROD  \n"
	"aws_secret_access_key=prodsecret\n"
	"aws_session_token = tok123\n"
	"region = eu-west-1\n"
	"[profile other]\n"
	"aws_access_key_id = AKIDOTHER\n"
	"aws_secret_access_key = othersecret\n"
	"[nosecret]\n"
	"aws_access_key_id = AKIDNOSECRET\n"
	"[empty]\n";

START_TEST(test_creds_file)
{
	struct norc_aws_creds c;
	char err[512];
	write_creds(creds_text);

	ck_assert_int_eq(norc_aws_creds_load(creds_path, NULL, &c, err, sizeof(err)), NORC_OK);
	ck_assert_str_eq(c.access_key, "AKIDDEFAULT");
	ck_assert_str_eq(c.secret_key, "secret/with=odd:chars+");
	ck_assert_ptr_null(c.session_token);
	norc_aws_creds_free(&c);
	ck_assert_ptr_null(c.access_key);

	ck_assert_int_eq(norc_aws_creds_load(creds_path, "prod", &c, err, sizeof(err)), NORC_OK);
	ck_assert_str_eq(c.access_key, "AKIDPROD");
	ck_assert_str_eq(c.secret_key, "prodsecret");
	ck_assert_str_eq(c.session_token, "tok123");
	norc_aws_creds_free(&c);

	ck_assert_int_eq(norc_aws_creds_load(creds_path, "other", &c, err, sizeof(err)), NORC_OK);
	ck_assert_str_eq(c.access_key, "AKIDOTHER");
	norc_aws_creds_free(&c);

	/* a missing key names the key, the file and the profile, and no secret */
	ck_assert_int_eq(norc_aws_creds_load(creds_path, "nosecret", &c, err, sizeof(err)),
			 NORC_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "aws_secret_access_key"));
	ck_assert_ptr_nonnull(strstr(err, "[nosecret]"));
	ck_assert_ptr_nonnull(strstr(err, creds_path));
	ck_assert_ptr_null(strstr(err, "AKIDNOSECRET"));
	ck_assert_ptr_null(strchr(err, '\n'));
	norc_aws_creds_free(&c);

	ck_assert_int_eq(norc_aws_creds_load(creds_path, "empty", &c, err, sizeof(err)),
			 NORC_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "aws_access_key_id"));
	norc_aws_creds_free(&c);

	ck_assert_int_eq(norc_aws_creds_load(creds_path, "staging", &c, err, sizeof(err)),
			 NORC_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "no [staging] section"));
	ck_assert_ptr_nonnull(strstr(err, "profile"));
	norc_aws_creds_free(&c);

	unlink(creds_path);
	ck_assert_int_eq(norc_aws_creds_load(creds_path, NULL, &c, err, sizeof(err)),
			 NORC_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "credentials_file"));
	ck_assert_ptr_nonnull(strstr(err, "cannot be read"));
	norc_aws_creds_free(&c);
}
END_TEST

START_TEST(test_creds_env)
{
	struct norc_aws_creds c;
	char err[512];
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	ck_assert_int_eq(norc_aws_creds_load(NULL, NULL, &c, err, sizeof(err)), NORC_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "credentials_file"));
	ck_assert_ptr_nonnull(strstr(err, "AWS_ACCESS_KEY_ID"));
	norc_aws_creds_free(&c);

	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	ck_assert_int_eq(norc_aws_creds_load(NULL, NULL, &c, err, sizeof(err)), NORC_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "AWS_SECRET_ACCESS_KEY is not"));
	ck_assert_ptr_null(strstr(err, "AKIDENV"));
	norc_aws_creds_free(&c);

	setenv("AWS_SECRET_ACCESS_KEY", "envsecret:x", 1);
	setenv("AWS_SESSION_TOKEN", "envtoken", 1);
	ck_assert_int_eq(norc_aws_creds_load(NULL, NULL, &c, err, sizeof(err)), NORC_OK);
	ck_assert_str_eq(c.access_key, "AKIDENV");
	ck_assert_str_eq(c.secret_key, "envsecret:x");
	ck_assert_str_eq(c.session_token, "envtoken");
	norc_aws_creds_free(&c);

	/* a profile without a file is a mistake, not silently the environment */
	ck_assert_int_eq(norc_aws_creds_load(NULL, "prod", &c, err, sizeof(err)), NORC_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "credentials_file"));
	norc_aws_creds_free(&c);
}
END_TEST

/* ---- gzip ---- */

static int tmp_fd(void)
{
	int fd;
	char err[256];
	ck_assert_int_eq(norc_gz_tmpfile(NULL, &fd, err, sizeof(err)), NORC_OK);
	return fd;
}

static void put_bytes(int fd, const void *p, size_t n)
{
	ck_assert_int_eq(write(fd, p, n), (ssize_t)n);
}

/* Read fd (from offset 0) into a malloc'd buffer; *n its size. */
static unsigned char *slurp(int fd, size_t *n)
{
	off_t end = lseek(fd, 0, SEEK_END);
	ck_assert_int_ge(end, 0);
	unsigned char *buf = malloc((size_t)end + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(pread(fd, buf, (size_t)end, 0), (ssize_t)end);
	*n = (size_t)end;
	return buf;
}

/* Decode the n bytes at p, fed in pieces of the sizes in steps (cycled); returns the decode
 * status and the output in *out (caller frees). */
static int decode(const unsigned char *p, size_t n, const size_t *steps, size_t nsteps,
		  unsigned char **out, size_t *outlen, char *err, size_t errlen)
{
	int fd = tmp_fd();
	struct norc_gz_decoder d;
	ck_assert_int_eq(norc_gz_decoder_init(&d, fd), NORC_OK);
	int rc = NORC_OK;
	for (size_t off = 0, i = 0; off < n && rc == NORC_OK; i++) {
		size_t k = steps[i % nsteps];
		if (k > n - off)
			k = n - off;
		rc = norc_gz_decoder_write(&d, p + off, k, err, errlen);
		off += k;
	}
	if (rc == NORC_OK)
		rc = norc_gz_decoder_finish(&d, err, errlen);
	norc_gz_decoder_free(&d);
	*out = slurp(fd, outlen);
	close(fd);
	return rc;
}

static int tap_hash(void *arg, const void *p, size_t n)
{
	return norc_aws_sha256_update(arg, p, n);
}

/* Random and repetitive content: about 5 MB of log-like lines and incompressible blocks. */
static unsigned char *make_content(size_t *n)
{
	size_t cap = 5u << 20, len = 0;
	unsigned char *buf = malloc(cap);
	ck_assert_ptr_nonnull(buf);
	unsigned seed = 12345;
	while (len < cap) {
		seed = seed * 1103515245u + 12345u;
		if ((seed >> 16) % 4 == 0) { /* a random block */
			size_t k = 1000 + (seed >> 8) % 30000;
			for (size_t i = 0; i < k && len < cap; i++) {
				seed = seed * 1103515245u + 12345u;
				buf[len++] = (unsigned char)(seed >> 16);
			}
		} else {
			char line[128];
			int k = snprintf(line, sizeof(line),
					 "2026-11-24 10:07:05 task %u ran: status SUCCESS\n",
					 seed % 1000);
			for (int i = 0; i < k && len < cap; i++)
				buf[len++] = (unsigned char)line[i];
		}
	}
	*n = len;
	return buf;
}

START_TEST(test_gz_round_trip)
{
	size_t n, zlen, outlen;
	unsigned char *content = make_content(&n);
	int src = tmp_fd(), dst = tmp_fd();
	put_bytes(src, content, n);
	ck_assert_int_eq(lseek(src, 0, SEEK_SET), 0);

	struct norc_aws_sha256 h;
	char tapped[NORC_AWS_SHA256_HEX], direct[NORC_AWS_SHA256_HEX], err[256];
	uint64_t size = 0, size2 = 0;
	ck_assert_int_eq(norc_aws_sha256_begin(&h), NORC_OK);
	ck_assert_int_eq(norc_gz_compress(src, dst, tap_hash, &h, &size, err, sizeof(err)),
			 NORC_OK);
	ck_assert_int_eq(norc_aws_sha256_end(&h, tapped), NORC_OK);
	ck_assert_int_eq(norc_aws_sha256_fd(dst, direct, &size2), NORC_OK);
	ck_assert_str_eq(tapped, direct); /* the hash seen while compressing is the file's */
	ck_assert_uint_eq(size, size2);
	ck_assert_uint_lt(size, n);       /* it did compress */

	unsigned char *z = slurp(dst, &zlen);
	ck_assert_uint_eq(z[0], 0x1f);   /* gzip, not zlib */
	ck_assert_uint_eq(z[1], 0x8b);

	static const size_t odd[] = {1, 7, 4093, 65539, 2, 16384};
	unsigned char *out;
	ck_assert_int_eq(decode(z, zlen, odd, 6, &out, &outlen, err, sizeof(err)), NORC_OK);
	ck_assert_uint_eq(outlen, n);
	ck_assert(memcmp(out, content, n) == 0);
	free(out);

	/* zlib's own gzip reader agrees */
	z_stream zs = {0};
	ck_assert_int_eq(inflateInit2(&zs, 15 + 16), Z_OK);
	unsigned char *check = malloc(n + 1);
	zs.next_in = z;
	zs.avail_in = (uInt)zlen;
	zs.next_out = check;
	zs.avail_out = (uInt)n + 1;
	ck_assert_int_eq(inflate(&zs, Z_FINISH), Z_STREAM_END);
	ck_assert_uint_eq(zs.total_out, n);
	ck_assert(memcmp(check, content, n) == 0);
	inflateEnd(&zs);
	free(check);

	/* cut short: an error at finish, never a silent partial object */
	static const size_t whole[] = {1u << 30};
	ck_assert_int_eq(decode(z, zlen - 9, whole, 1, &out, &outlen, err, sizeof(err)),
			 NORC_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "truncated"));
	free(out);

	/* corrupted in the middle: an error */
	z[zlen / 2] ^= 0x55;
	z[zlen / 2 + 1] ^= 0xaa;
	ck_assert_int_eq(decode(z, zlen, whole, 1, &out, &outlen, err, sizeof(err)), NORC_EINVAL);
	free(out);

	free(z);
	free(content);
	close(src);
	close(dst);
}
END_TEST

/* Zeros compress about 1000:1: few input bytes fill the output buffer many times over. */
START_TEST(test_gz_highly_compressible)
{
	size_t n = 10u << 20, zlen, outlen;
	unsigned char *zeros = calloc(1, n), *z, *out;
	int src = tmp_fd(), dst = tmp_fd();
	char err[256];
	put_bytes(src, zeros, n);
	ck_assert_int_eq(lseek(src, 0, SEEK_SET), 0);
	ck_assert_int_eq(norc_gz_compress(src, dst, NULL, NULL, NULL, err, sizeof(err)), NORC_OK);
	z = slurp(dst, &zlen);
	ck_assert_uint_lt(zlen, n / 500);
	static const size_t steps[][1] = {{1u << 30}, {1}, {7}, {333}};
	for (size_t i = 0; i < 4; i++) {
		ck_assert_int_eq(decode(z, zlen, steps[i], 1, &out, &outlen, err, sizeof(err)),
				 NORC_OK);
		ck_assert_uint_eq(outlen, n);
		ck_assert(memcmp(out, zeros, n) == 0);
		free(out);
	}
	free(z);
	free(zeros);
	close(src);
	close(dst);
}
END_TEST

START_TEST(test_gz_empty_file)
{
	int src = tmp_fd(), dst = tmp_fd();
	char err[256];
	uint64_t size = 0;
	ck_assert_int_eq(norc_gz_compress(src, dst, NULL, NULL, &size, err, sizeof(err)), NORC_OK);
	ck_assert_uint_eq(size, 20); /* header and trailer only */
	size_t zlen, outlen;
	unsigned char *z = slurp(dst, &zlen), *out;
	static const size_t one[] = {1};
	ck_assert_int_eq(decode(z, zlen, one, 1, &out, &outlen, err, sizeof(err)), NORC_OK);
	ck_assert_uint_eq(outlen, 0);
	free(out);
	free(z);
	close(src);
	close(dst);
}
END_TEST

static const char *const raw_cases[] = {
	"",
	"h",
	"hello, a plain log line\n",
	"x^ looks like a zlib header but is a plain line\n", /* 0x78 0x5e: a valid zlib header */
	"\x1f\x8b but then not gzip at all",
};

START_TEST(test_gz_raw_passthrough)
{
	const char *in = raw_cases[_i];
	size_t n = strlen(in), outlen;
	unsigned char *out;
	char err[256];
	static const size_t steps[] = {1, 3, 100};
	ck_assert_int_eq(decode((const unsigned char *)in, n, steps, 3, &out, &outlen, err,
				sizeof(err)),
			 NORC_OK);
	ck_assert_uint_eq(outlen, n);
	ck_assert(memcmp(out, in, n) == 0);
	free(out);
}
END_TEST

START_TEST(test_gz_raw_large)
{
	size_t n = 300000, outlen;
	unsigned char *in = malloc(n), *out;
	for (size_t i = 0; i < n; i++)
		in[i] = (unsigned char)("plain text log\n"[i % 15]);
	char err[256];
	static const size_t steps[] = {16384};
	ck_assert_int_eq(decode(in, n, steps, 1, &out, &outlen, err, sizeof(err)), NORC_OK);
	ck_assert_uint_eq(outlen, n);
	ck_assert(memcmp(out, in, n) == 0);
	free(out);
	free(in);
}
END_TEST

START_TEST(test_gz_zlib_object)
{
	/* what the original Norc stored: zlib.compress(data, 9) */
	static const char text[] = "line one\nline two\nline two\nline two\nend\n";
	unsigned char z[256], *out;
	uLongf zlen = sizeof(z);
	ck_assert_int_eq(compress2(z, &zlen, (const Bytef *)text, sizeof(text) - 1, 9), Z_OK);
	ck_assert_uint_eq(z[0], 0x78);
	size_t outlen;
	char err[256];
	static const size_t steps[] = {1, 2, 5};
	ck_assert_int_eq(decode(z, zlen, steps, 3, &out, &outlen, err, sizeof(err)), NORC_OK);
	ck_assert_uint_eq(outlen, sizeof(text) - 1);
	ck_assert(memcmp(out, text, outlen) == 0);
	free(out);
}
END_TEST

/* gzip one buffer into out (appending at *len). */
static void gzip_into(const char *text, unsigned char *out, size_t cap, size_t *len)
{
	z_stream zs = {0};
	ck_assert_int_eq(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (Bytef *)text;
	zs.avail_in = (uInt)strlen(text);
	zs.next_out = out + *len;
	zs.avail_out = (uInt)(cap - *len);
	ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*len += zs.total_out;
	deflateEnd(&zs);
}

START_TEST(test_gz_concatenated)
{
	unsigned char z[1024], *out;
	size_t zlen = 0, outlen;
	gzip_into("first member\n", z, sizeof(z), &zlen);
	gzip_into("second member\n", z, sizeof(z), &zlen);
	gzip_into("", z, sizeof(z), &zlen);
	gzip_into("third\n", z, sizeof(z), &zlen);
	char err[256];
	static const char want[] = "first member\nsecond member\nthird\n";
	static const size_t steps[][2] = {{1, 1}, {5, 11}, {1024, 1024}};
	for (size_t s = 0; s < 3; s++) {
		ck_assert_int_eq(decode(z, zlen, steps[s], 2, &out, &outlen, err, sizeof(err)),
				 NORC_OK);
		ck_assert_uint_eq(outlen, sizeof(want) - 1);
		ck_assert(memcmp(out, want, outlen) == 0);
		free(out);
	}
	/* a second member cut short is still an error */
	ck_assert_int_eq(decode(z, zlen - 3, steps[2], 2, &out, &outlen, err, sizeof(err)),
			 NORC_EINVAL);
	free(out);
}
END_TEST

static Suite *aws_suite(void)
{
	Suite *s = suite_create("aws");
	TCase *tc = tcase_create("encoding");
	tcase_add_loop_test(tc, test_uri_encode, 0, sizeof(enc_cases) / sizeof(enc_cases[0]));
	tcase_add_loop_test(tc, test_canonical_query, 0,
			    sizeof(query_cases) / sizeof(query_cases[0]));
	tcase_add_test(tc, test_sha256);
	tcase_add_test(tc, test_backoff);
	suite_add_tcase(s, tc);

	tc = tcase_create("credentials");
	tcase_add_test(tc, test_creds_file);
	tcase_add_test(tc, test_creds_env);
	suite_add_tcase(s, tc);

	tc = tcase_create("gzip");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_gz_round_trip);
	tcase_add_test(tc, test_gz_highly_compressible);
	tcase_add_test(tc, test_gz_empty_file);
	tcase_add_loop_test(tc, test_gz_raw_passthrough, 0,
			    sizeof(raw_cases) / sizeof(raw_cases[0]));
	tcase_add_test(tc, test_gz_raw_large);
	tcase_add_test(tc, test_gz_zlib_object);
	tcase_add_test(tc, test_gz_concatenated);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return norc_unit_run(aws_suite());
}
