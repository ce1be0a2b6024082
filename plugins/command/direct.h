/*
 * direct.h - CommandTask's fast path: a command made only of plain words is executed
 * directly, as the shell itself would execute it, instead of through `/bin/sh -c`.
 */
#ifndef NORC_COMMAND_DIRECT_H
#define NORC_COMMAND_DIRECT_H

#include <norc/plugin.h>

/* If line (after interpolation) is a simple command that /bin/sh would run by finding its
 * first word in PATH and exec'ing it with the words as arguments, fill *argv (the words,
 * NULL-terminated) and *path (the file found) from api's allocator and return true; the
 * caller owns both. Otherwise return false and touch nothing: the shell runs it. path_env is
 * the PATH the child will see (NULL: the shell's default). */
bool command_direct(const struct norc_host_api *api, const char *line, const char *path_env,
		    char ***argv, char **path);

#endif
