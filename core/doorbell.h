/*
 * doorbell.h - a local wake-up for executors, so new work starts at once instead of at the
 * next poll.
 *
 * Each executor binds a unix datagram socket tmp_dir/doorbell/q<QUEUE>-<PID>.sock. Whoever
 * pushes onto a queue on this host (the scheduler, `norc run`) rings every doorbell of that
 * queue after its commit: one byte, never blocking. Executors on other hosts are not rung;
 * they find the work at their next poll (at most 1 s). Queue id 0 is the schedulers' bell,
 * rung by `norc schedule add/rm` so a new schedule is claimed at once, not at the next
 * heartbeat. A doorbell is an optimisation only:
 * a missed ring costs latency, never work.
 */
#ifndef NORC_DOORBELL_H
#define NORC_DOORBELL_H

#include "config.h"

#include <stdint.h>

/* Bind this process's doorbell for queue_id; *fd (CLOEXEC, non-blocking) is -1 when it
 * could not be made (the caller then relies on polling). Caller frees *path and calls
 * norc_doorbell_close. */
void norc_doorbell_open(const struct norc_config *cfg, int64_t queue_id, int *fd, char **path);
void norc_doorbell_close(int fd, char *path); /* unlinks and frees path */
/* Make the doorbell bound at path ring for queue_id too (an executor of a queue group, for
 * each of the group's queues): a symlink named like a bell of queue_id. Returns its path
 * (caller passes it to norc_doorbell_unalias), or NULL (then polling only for that queue). */
char *norc_doorbell_alias(const struct norc_config *cfg, const char *path, int64_t queue_id);
void norc_doorbell_unalias(char *alias); /* unlinks and frees; NULL ok */
/* Ring every doorbell of queue_id on this host; stale sockets are removed. */
void norc_doorbell_ring(const struct norc_config *cfg, int64_t queue_id);
/* Ring them for a control request (norc_control): the daemon reads its request at once. */
void norc_doorbell_ring_request(const struct norc_config *cfg, int64_t queue_id);
/* Read and drop pending rings: NORC_BELL_WORK and/or NORC_BELL_REQUEST. */
#define NORC_BELL_WORK 1
#define NORC_BELL_REQUEST 2
int norc_doorbell_drain(int fd);

#endif
