/*
 * gz.h - streaming gzip for the backup plugins (compiled into each of them): compress a log
 * file into an unlinked temporary file, and decode a stored object back onto an fd, in
 * bounded memory whatever the size.
 *
 * Objects are written as gzip (one member, level 6). Reading accepts what the original Norc
 * and other tools stored too: gzip (several members concatenated are one object), zlib, or
 * raw bytes, told apart by the first bytes; data that looks compressed but does not inflate
 * before any output was produced is passed through raw, as the original did.
 *
 * Ownership: fds are borrowed unless said otherwise. Not thread-safe per decoder.
 */
#ifndef NORC_GZ_H
#define NORC_GZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

/* A temporary file under dir (NULL or "": $TMPDIR, else /tmp), open read-write with
 * O_CLOEXEC, never visible by name (O_TMPFILE, or unlinked right after creation). NORC_OK
 * and *fd (caller closes), or NORC_EIO with err naming the directory. */
int norc_gz_tmpfile(const char *dir, int *fd, char *err, size_t errlen);

/* Sees every compressed byte in order (e.g. to hash it); a negative NORC_E* aborts. */
typedef int (*norc_gz_tap_fn)(void *arg, const void *p, size_t n);

/* Compress src_fd (from its offset to EOF) into dst_fd (at its offset) as gzip, level 6.
 * tap may be NULL. *out_size (may be NULL) gets the compressed length. NORC_OK, NORC_EIO
 * (a read or write failed; err says which), NORC_ENOMEM, or the tap's code. */
int norc_gz_compress(int src_fd, int dst_fd, norc_gz_tap_fn tap, void *tap_arg,
		     uint64_t *out_size, char *err, size_t errlen);

/* Decodes a stream fed in chunks onto an fd. Storage is the caller's; init, write any number
 * of chunks, finish, then always free. */
struct norc_gz_decoder {
	int fd;              /* output; borrowed */
	int mode;            /* detecting, inflating, raw (gz.c) */
	unsigned char head[2];
	size_t nhead;
	z_stream zs;
	bool zs_live;        /* inflateInit2 was done */
	bool member_end;     /* the last member is complete and no input followed yet */
	bool out_started;    /* decoded bytes were written: raw fallback no longer possible */
	unsigned char *out;  /* output buffer; owned */
	unsigned char *probe; /* all input while a raw fallback is possible; owned */
	size_t nprobe;
	uint64_t written;    /* bytes written to fd */
};

/* NORC_OK or NORC_ENOMEM. */
int norc_gz_decoder_init(struct norc_gz_decoder *d, int fd);
/* Decode n bytes at p and write what they give to the fd. NORC_OK, NORC_EIO (write failed)
 * or NORC_EINVAL (corrupt compressed data), with err. */
int norc_gz_decoder_write(struct norc_gz_decoder *d, const void *p, size_t n, char *err,
			  size_t errlen);
/* The input is complete: NORC_OK, or NORC_EINVAL when a compressed stream was cut short. */
int norc_gz_decoder_finish(struct norc_gz_decoder *d, char *err, size_t errlen);
void norc_gz_decoder_free(struct norc_gz_decoder *d);

#endif
