/*
 * norc/backup.h - the ops a log-backup plugin (S3, a local directory, ...) provides.
 *
 * Backups store finished log files under a key ("norc_logs/<relative log path>") and fetch
 * them back for norc_log_viewer and the web UI. Every op runs in a child process the core
 * forks for the purpose (uploads never delay the daemon's loop), so ops may block.
 */
#ifndef NORC_BACKUP_H
#define NORC_BACKUP_H

#include <norc/plugin.h>

struct norc_backup_ops {
	uint32_t struct_size;
	/* Open with this host's settings (the backup subtree of the config as parameters). */
	int (*open)(void *state, const struct norc_params *settings, void **handle, char *err,
		    size_t errlen);
	void (*close)(void *handle);
	/* Store the file at local_path under key. */
	int (*put)(void *handle, const char *local_path, const char *key, char *err, size_t errlen);
	/* Write the object's (uncompressed) content to fd. NORC_ENOTFOUND when absent. */
	int (*get)(void *handle, const char *key, int fd, char *err, size_t errlen);
	int (*exists)(void *handle, const char *key, bool *exists, char *err, size_t errlen);
	int (*del)(void *handle, const char *key, char *err, size_t errlen);
};

#endif
