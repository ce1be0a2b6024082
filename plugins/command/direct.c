/*
 * direct.c - see direct.h. The same fast path as GNU make's: a command with no shell syntax
 * at all (only letters, digits, blanks and _-./,:+@%=) whose first word is neither a shell
 * builtin nor keyword nor assignment is split on blanks, looked up in PATH, and exec'd with
 * argv[0] as typed, exactly what `sh -c` does with it - minus one exec of the shell, the
 * largest part of a short task's start. Anything else, and anything this cannot decide
 * (a relative or empty PATH entry, a name not found, a file that is neither ELF nor #!
 * script, so the shell's own fallbacks and messages apply), goes through the shell. If the
 * exec fails all the same (a missing #! interpreter, a binary for another machine), the
 * core reports it on the task's stderr with exit 127 or 126, as the shell would. The
 * executor exports PWD as the task's directory, as the shell would.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "direct.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* dash's default when PATH is unset */
#define SHELL_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Words the shell handles itself (POSIX special and regular builtins, dash's builtins,
 * keywords, also bash's in case /bin/sh is bash), including those whose builtin behaves like
 * the program of the same name (true, false, echo, printf, pwd, kill, test): these always go
 * through the shell, as the shell would never exec them. `/bin/true` (a path) is exec'd. */
static const char *const shell_words[] = {
	".", ":", "!", "{", "}", "alias", "bg", "break", "builtin", "caller", "case", "cd",
	"chdir", "command", "compgen", "complete", "continue", "declare", "dirs", "disown", "do",
	"done", "echo", "elif", "else", "enable", "esac", "eval", "exec", "exit", "export",
	"false", "fc", "fg", "fi", "for", "function", "getopts", "hash", "help", "history", "if",
	"in", "jobs", "kill", "let", "local", "login", "logout", "mapfile", "newgrp", "popd",
	"printf", "pushd", "pwd", "read", "readarray", "readonly", "return", "select", "set",
	"shift", "shopt", "source", "suspend", "test", "then", "time", "times", "trap", "true",
	"type", "typeset", "ulimit", "umask", "unalias", "unset", "until", "wait", "while", NULL,
};

static bool plain_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("_-./,:+@%= \t", c));
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* An ELF binary or a #! script: what execve() runs as the shell would. */
static bool execs_like_shell(const char *file)
{
	struct stat st;
	if (stat(file, &st) != 0 || !S_ISREG(st.st_mode) || access(file, X_OK) != 0)
		return false;
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false; /* execute-only: let the shell try */
	unsigned char m[4] = {0};
	ssize_t n = read(fd, m, sizeof(m));
	close(fd);
	return (n >= 2 && m[0] == '#' && m[1] == '!') ||
	       (n == 4 && m[0] == 0x7f && m[1] == 'E' && m[2] == 'L' && m[3] == 'F');
}

/* The file PATH gives for name, from api's allocator, or NULL (not found, or undecidable). */
static char *search_path(const struct norc_host_api *api, const char *name, const char *path_env)
{
	const char *p = path_env ? path_env : SHELL_DEFAULT_PATH;
	size_t nlen = strlen(name);
	for (;;) {
		const char *end = strchr(p, ':');
		size_t dlen = end ? (size_t)(end - p) : strlen(p);
		if (dlen == 0 || p[0] != '/')
			return NULL; /* relative to the child's directory: the shell's business */
		char *file = api->alloc(dlen + nlen + 2);
		memcpy(file, p, dlen);
		file[dlen] = '/';
		memcpy(file + dlen + 1, name, nlen + 1);
		struct stat st;
		if (stat(file, &st) == 0 && S_ISREG(st.st_mode) && access(file, X_OK) == 0)
			return file; /* the first hit is the shell's choice, runnable or not */
		api->free(file);
		if (!end)
			return NULL;
		p = end + 1;
	}
}

bool command_direct(const struct norc_host_api *api, const char *line, const char *path_env,
		    char ***argv, char **path)
{
	size_t words = 0;
	for (const char *s = line; *s; s++) {
		if (!plain_char(*s))
			return false;
		if (!blank(*s) && (s == line || blank(s[-1])))
			words++;
	}
	if (words == 0)
		return false;
	const char *w0 = line;
	while (blank(*w0))
		w0++;
	size_t len0 = strcspn(w0, " \t");
	if (memchr(w0, '=', len0))
		return false; /* VAR=value cmd: an assignment */
	for (const char *const *b = shell_words; *b; b++)
		if (strlen(*b) == len0 && memcmp(*b, w0, len0) == 0)
			return false;
	char *name = api->alloc(len0 + 1);
	memcpy(name, w0, len0);
	name[len0] = '\0';
	char *file = NULL;
	if (name[0] == '/')
		file = api->strdup(name);
	else if (!strchr(name, '/'))
		file = search_path(api, name, path_env);
	api->free(name);
	if (!file || !execs_like_shell(file)) {
		api->free(file);
		return false;
	}
	char **v = api->alloc((words + 1) * sizeof(char *));
	size_t k = 0;
	for (const char *s = line; *s;) {
		while (blank(*s))
			s++;
		size_t n = strcspn(s, " \t");
		if (n == 0)
			break;
		v[k] = api->alloc(n + 1);
		memcpy(v[k], s, n);
		v[k][n] = '\0';
		k++;
		s += n;
	}
	v[k] = NULL;
	*argv = v;
	*path = file;
	return true;
}
