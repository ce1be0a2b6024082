/*
 * control.h - requests to daemons (the original's STOP 1, KILL 2, PAUSE 7, RESUME 8,
 * RELOAD 9) and `handle`, through the daemons table.
 *
 * A request waits in daemons.request until its daemon takes it at its next heartbeat (at
 * once when the daemon is on this host: the sender rings its doorbell). A pending request is
 * never overwritten silently: a second one is refused unless forced.
 */
#ifndef NORC_CONTROL_H
#define NORC_CONTROL_H

#include "config.h"
#include "db.h"

#include <stdbool.h>
#include <stdint.h>

/* "stop" -> NORC_REQ_STOP ...; 0 when unknown. */
int norc_control_parse(const char *name);
const char *norc_control_name(int request); /* "STOP" ... */

/* Leave request for daemon id (of kind "executor" or "scheduler"). Refused (NORC_EINVAL) when
 * the kind does not take it, (NORC_EBUSY) when another request is pending and !force,
 * (NORC_ENOTFOUND) when there is no such daemon, (NORC_EEXIST) when it has ended. */
int norc_control_request(struct norc_db *db, const char *kind, int64_t id, int request, bool force,
			 char *err, size_t errlen);
/* The daemon's side: clear the request it is about to act on (only if it is still that one). */
int norc_control_take(struct norc_db *db, int64_t id, int request);
/* Mark a dead or failed daemon HANDLED (acknowledged). Refused for a live daemon and for one
 * that ended normally. cfg->heartbeat_timeout_s decides "dead"; job logs go under
 * cfg->log_dir. */
int norc_control_handle(struct norc_db *db, const struct norc_config *cfg, const char *kind,
			int64_t id, char *err, size_t errlen);

/* Acknowledge a failed instance (ERROR, FAILURE, TIMEDOUT, INTERRUPTED): it becomes HANDLED,
 * so it leaves the failed lists; its reason and exit code stay. Refused otherwise. */
int norc_control_handle_instance(struct norc_db *db, int64_t id, char *err, size_t errlen);

#endif
