/*
 * s3probe.c - one raw S3 request through norc_aws, for checking the signing against the SigV4
 * verifier (tests/integration/sigv4check.py) and the plumbing against s3rver. Path-style URLs,
 * credentials from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN); objects are sent as the file's bytes (not compressed).
 *
 *   s3probe ENDPOINT REGION BUCKET put KEY FILE | get KEY | head KEY | del KEY
 *                                 | list PREFIX [CONTINUATION_TOKEN] | mkbucket
 *
 * Prints "HTTP STATUS" (and the S3 error code, if any) on stderr and the response body on
 * stdout. Exit status: 0 for a 2xx answer, 1 for any other status, 2 for usage or transport
 * errors. S3PROBE_ATTEMPTS sets the tries per request (default 1).
 */
#include "aws.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr, "usage: s3probe ENDPOINT REGION BUCKET put KEY FILE | get KEY | head KEY | "
			"del KEY | list PREFIX [TOKEN] | mkbucket\n");
	return 2;
}

static int to_stdout(void *arg, const void *data, size_t n, char *err, size_t errlen)
{
	(void)arg;
	if (fwrite(data, 1, n, stdout) != n) {
		snprintf(err, errlen, "s3probe: cannot write stdout");
		return NORC_EIO;
	}
	return NORC_OK;
}

/* "/BUCKET/ENCODED_KEY" or "/BUCKET" (key NULL). Caller frees with free. */
static char *object_path(const char *bucket, const char *key)
{
	char *enc = key ? norc_aws_uri_encode(key, true) : NULL;
	size_t len = strlen(bucket) + (enc ? strlen(enc) : 0) + 3;
	char *path = malloc(len);
	if (!path)
		abort();
	snprintf(path, len, "/%s%s%s", bucket, enc ? "/" : "", enc ? enc : "");
	free(enc);
	return path;
}

int main(int argc, char **argv)
{
	if (argc < 5)
		return usage();
	const char *endpoint = argv[1], *region = argv[2], *bucket = argv[3], *op = argv[4];
	struct norc_aws_request req = {.sink = to_stdout};
	struct norc_aws_param query[3];
	int fd = -1;
	char *path;
	if (strcmp(op, "put") == 0 && argc == 7) {
		fd = open(argv[6], O_RDONLY | O_CLOEXEC);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) != 0) {
			fprintf(stderr, "s3probe: %s: %s\n", argv[6], strerror(errno));
			return 2;
		}
		req.method = "PUT";
		req.body_is_fd = true;
		req.body_fd = fd;
		req.body_fd_size = (uint64_t)st.st_size;
		path = object_path(bucket, argv[5]);
	} else if ((strcmp(op, "get") == 0 || strcmp(op, "head") == 0 || strcmp(op, "del") == 0) &&
		   argc == 6) {
		req.method = op[0] == 'g' ? "GET" : op[0] == 'h' ? "HEAD" : "DELETE";
		path = object_path(bucket, argv[5]);
	} else if (strcmp(op, "list") == 0 && (argc == 6 || argc == 7)) {
		req.method = "GET";
		query[0] = (struct norc_aws_param){"prefix", argv[5]};
		query[1] = (struct norc_aws_param){"list-type", "2"};
		query[2] = (struct norc_aws_param){"continuation-token",
						   argc == 7 ? argv[6] : NULL};
		req.query = query;
		req.nquery = argc == 7 ? 3 : 2;
		path = object_path(bucket, NULL);
	} else if (strcmp(op, "mkbucket") == 0 && argc == 5) {
		req.method = "PUT";
		path = object_path(bucket, NULL);
	} else {
		return usage();
	}
	req.path = path;

	struct norc_aws_creds creds;
	char err[1024];
	if (norc_aws_creds_load(NULL, NULL, &creds, err, sizeof(err)) != NORC_OK) {
		fprintf(stderr, "s3probe: %s\n", err);
		norc_aws_creds_free(&creds);
		return 2;
	}
	const char *att = getenv("S3PROBE_ATTEMPTS");
	struct norc_aws_client client = {
		.endpoint = endpoint,
		.region = region,
		.service = "s3",
		.creds = &creds,
		.attempts = att ? (int)strtol(att, NULL, 10) : 1,
		.timeout_s = 60,
		.connect_timeout_s = 10,
		.user_agent = "norc-s3probe",
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	CURL *curl = curl_easy_init();
	struct norc_aws_response resp;
	int rc = curl ? norc_aws_request(curl, &client, &req, &resp, err, sizeof(err))
		      : NORC_ENOMEM;
	int status = 2;
	if (rc != NORC_OK) {
		fprintf(stderr, "s3probe: %s\n", curl ? err : "no curl handle");
	} else {
		fwrite(resp.body, 1, resp.body_len, stdout);
		fprintf(stderr, "HTTP %ld%s%s\n", resp.status, resp.code[0] ? " " : "", resp.code);
		status = resp.status >= 200 && resp.status < 300 ? 0 : 1;
	}
	fflush(stdout);
	if (curl)
		curl_easy_cleanup(curl);
	curl_global_cleanup();
	norc_aws_creds_free(&creds);
	free(path);
	if (fd >= 0)
		close(fd);
	return status;
}
