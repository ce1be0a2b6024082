/*
 * host.h - the core side of the plugin host API (struct norc_host_api of the SDK).
 *
 * Each loaded plugin gets its own struct norc_host (so its log lines carry its name). The
 * database handle plugins reach through api->db() is the one the program set with
 * norc_host_set_db(); it is borrowed, and NULL until set.
 */
#ifndef NORC_HOST_H
#define NORC_HOST_H

#include <norc/plugin.h>

struct norc_host *norc_host_new(const char *plugin_name); /* free with norc_host_free */
void norc_host_free(struct norc_host *host);              /* NULL ok */
const struct norc_host_api *norc_host_api(void);          /* static table */
void norc_host_set_db(struct norc_db *db);                /* borrowed */

#endif
