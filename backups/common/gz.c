/*
 * gz.c - streaming gzip for the backup plugins (see gz.h).
 *
 * Compression: deflateInit2 with windowBits 15+16 (a gzip wrapper), level 6, 64 KiB blocks in
 * and out. Decoding: the first two bytes decide: 1f 8b (gzip) or a valid zlib header inflate
 * with windowBits 15+32 (either format, detected by zlib), anything else is copied raw. After
 * a member ends, more input starts another member (inflateReset). While nothing has been
 * written yet, the input is also kept (up to PROBE_MAX) so that bytes which merely looked
 * like a header can still be written out raw when inflating them fails.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* O_TMPFILE, mkostemp */
#endif

#include "gz.h"

#include <norc/plugin.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK (64 * 1024)
#define PROBE_MAX (64 * 1024)

enum { MODE_DETECT, MODE_INFLATE, MODE_RAW };

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return NORC_EIO;
		c += w;
		n -= (size_t)w;
	}
	return NORC_OK;
}

int norc_gz_tmpfile(const char *dir, int *fd, char *err, size_t errlen)
{
	if (!dir || !*dir)
		dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	*fd = open(dir, O_RDWR | O_TMPFILE | O_CLOEXEC, 0600);
	if (*fd >= 0)
		return NORC_OK;
	char path[4096];
	if (snprintf(path, sizeof(path), "%s/.norc-gz.XXXXXX", dir) >= (int)sizeof(path)) {
		snprintf(err, errlen, "temporary directory '%s': path too long", dir);
		return NORC_EIO;
	}
	*fd = mkostemp(path, O_CLOEXEC);
	if (*fd < 0) {
		snprintf(err, errlen, "cannot create a temporary file in '%s': %s (set tmp_dir to "
			 "a writable directory)", dir, strerror(errno));
		return NORC_EIO;
	}
	unlink(path);
	return NORC_OK;
}

int norc_gz_compress(int src_fd, int dst_fd, norc_gz_tap_fn tap, void *tap_arg,
		     uint64_t *out_size, char *err, size_t errlen)
{
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	unsigned char *in = malloc(BLOCK), *out = malloc(BLOCK);
	uint64_t total = 0;
	int rc = NORC_OK;
	if (!in || !out ||
	    deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(in);
		free(out);
		snprintf(err, errlen, "gzip: out of memory");
		return NORC_ENOMEM;
	}
	int flush = Z_NO_FLUSH;
	while (rc == NORC_OK && flush != Z_FINISH) {
		ssize_t n = read(src_fd, in, BLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "gzip: cannot read the file: %s", strerror(errno));
			rc = NORC_EIO;
			break;
		}
		flush = n == 0 ? Z_FINISH : Z_NO_FLUSH;
		zs.next_in = in;
		zs.avail_in = (uInt)n;
		do {
			zs.next_out = out;
			zs.avail_out = BLOCK;
			int z = deflate(&zs, flush);
			if (z == Z_STREAM_ERROR) {
				snprintf(err, errlen, "gzip: deflate failed");
				rc = NORC_ERR;
				break;
			}
			size_t have = BLOCK - zs.avail_out;
			if (have && tap && (rc = tap(tap_arg, out, have)) != NORC_OK) {
				snprintf(err, errlen, "gzip: hashing the output failed");
				break;
			}
			if (have && write_all(dst_fd, out, have) != NORC_OK) {
				snprintf(err, errlen, "gzip: cannot write the temporary file: %s",
					 strerror(errno));
				rc = NORC_EIO;
				break;
			}
			total += have;
		} while (zs.avail_out == 0);
	}
	deflateEnd(&zs);
	free(in);
	free(out);
	if (rc == NORC_OK && out_size)
		*out_size = total;
	return rc;
}

/* ---- decoding ---- */

int norc_gz_decoder_init(struct norc_gz_decoder *d, int fd)
{
	memset(d, 0, sizeof(*d));
	d->fd = fd;
	d->mode = MODE_DETECT;
	d->out = malloc(BLOCK);
	d->probe = malloc(PROBE_MAX);
	return d->out && d->probe ? NORC_OK : NORC_ENOMEM;
}

void norc_gz_decoder_free(struct norc_gz_decoder *d)
{
	if (d->zs_live)
		inflateEnd(&d->zs);
	d->zs_live = false;
	free(d->out);
	free(d->probe);
	d->out = d->probe = NULL;
}

static int emit(struct norc_gz_decoder *d, const void *p, size_t n, char *err, size_t errlen)
{
	if (n == 0)
		return NORC_OK;
	if (write_all(d->fd, p, n) != NORC_OK) {
		snprintf(err, errlen, "cannot write the decoded object: %s", strerror(errno));
		return NORC_EIO;
	}
	d->written += n;
	return NORC_OK;
}

/* Inflating failed before any output: the bytes were not compressed after all. */
static int fall_back_raw(struct norc_gz_decoder *d, char *err, size_t errlen)
{
	d->mode = MODE_RAW;
	if (d->zs_live)
		inflateEnd(&d->zs);
	d->zs_live = false;
	size_t n = d->nprobe;
	d->nprobe = 0;
	return emit(d, d->probe, n, err, errlen);
}

static bool fallback_possible(const struct norc_gz_decoder *d) { return d->probe != NULL; }

static void drop_probe(struct norc_gz_decoder *d)
{
	free(d->probe);
	d->probe = NULL;
	d->nprobe = 0;
}

static int feed(struct norc_gz_decoder *d, const unsigned char *p, size_t n, char *err,
		size_t errlen)
{
	if (fallback_possible(d)) {
		if (d->nprobe + n <= PROBE_MAX) {
			memcpy(d->probe + d->nprobe, p, n);
			d->nprobe += n;
		} else {
			drop_probe(d);
		}
	}
	d->zs.next_in = (unsigned char *)p;
	d->zs.avail_in = (uInt)n;
	for (;;) {
		if (d->member_end) { /* more input after a complete member: the next member */
			if (d->zs.avail_in == 0)
				break;
			inflateReset(&d->zs);
			d->member_end = false;
		}
		d->zs.next_out = d->out;
		d->zs.avail_out = BLOCK;
		int z = inflate(&d->zs, Z_NO_FLUSH);
		size_t have = BLOCK - d->zs.avail_out;
		if (z == Z_DATA_ERROR || z == Z_NEED_DICT || z == Z_STREAM_ERROR ||
		    z == Z_MEM_ERROR) {
			if (fallback_possible(d) && !d->out_started && z != Z_MEM_ERROR)
				return fall_back_raw(d, err, errlen);
			snprintf(err, errlen,
				 "corrupt compressed data after %llu decoded bytes%s%s",
				 (unsigned long long)d->written, d->zs.msg ? ": " : "",
				 d->zs.msg ? d->zs.msg : "");
			return z == Z_MEM_ERROR ? NORC_ENOMEM : NORC_EINVAL;
		}
		if (have) {
			d->out_started = true;
			if (fallback_possible(d))
				drop_probe(d);
			int rc = emit(d, d->out, have, err, errlen);
			if (rc != NORC_OK)
				return rc;
		}
		if (z == Z_STREAM_END) {
			d->member_end = true;
			if (fallback_possible(d))
				drop_probe(d); /* a valid stream: no fallback from here on */
			continue;
		}
		if (d->zs.avail_in == 0 && d->zs.avail_out != 0)
			break; /* all input taken and no output pending */
		if (z == Z_BUF_ERROR && have == 0)
			break;
	}
	return NORC_OK;
}

static bool compressed_header(const unsigned char h[2])
{
	if (h[0] == 0x1f && h[1] == 0x8b)
		return true; /* gzip */
	return (h[0] & 0x0f) == Z_DEFLATED && (h[0] >> 4) <= 7 && ((h[0] << 8) | h[1]) % 31 == 0;
}

/* The first bytes are in head: choose the mode and pass them on. */
static int decide(struct norc_gz_decoder *d, char *err, size_t errlen)
{
	if (d->nhead == 2 && compressed_header(d->head)) {
		if (inflateInit2(&d->zs, 15 + 32) != Z_OK) {
			snprintf(err, errlen, "inflate: out of memory");
			return NORC_ENOMEM;
		}
		d->zs_live = true;
		d->mode = MODE_INFLATE;
		return feed(d, d->head, d->nhead, err, errlen);
	}
	d->mode = MODE_RAW;
	drop_probe(d);
	return emit(d, d->head, d->nhead, err, errlen);
}

int norc_gz_decoder_write(struct norc_gz_decoder *d, const void *data, size_t n, char *err,
			  size_t errlen)
{
	const unsigned char *p = data;
	while (d->mode == MODE_DETECT && n > 0) {
		d->head[d->nhead++] = *p++;
		n--;
		if (d->nhead == 2) {
			int rc = decide(d, err, errlen);
			if (rc != NORC_OK)
				return rc;
		}
	}
	if (n == 0)
		return NORC_OK;
	if (d->mode == MODE_RAW)
		return emit(d, p, n, err, errlen);
	return feed(d, p, n, err, errlen);
}

int norc_gz_decoder_finish(struct norc_gz_decoder *d, char *err, size_t errlen)
{
	if (d->mode == MODE_DETECT)
		return decide(d, err, errlen); /* 0 or 1 bytes: raw */
	if (d->mode == MODE_RAW || d->member_end)
		return NORC_OK;
	if (fallback_possible(d) && !d->out_started)
		return fall_back_raw(d, err, errlen);
	snprintf(err, errlen, "the compressed object is truncated (after %llu decoded bytes)",
		 (unsigned long long)d->written);
	return NORC_EINVAL;
}
