/* daemon.h - dumpscoutd's main loop: opens the store, starts the watcher and the queue, keeps the
 * heartbeat, runs retention after new dumps and on a timer, and stops cleanly on SIGTERM/SIGINT
 * (triage in flight finishes, an analysis in flight is left to be resumed at the next start). It owns
 * no policy of its own: each part decides its own work. */
#ifndef DS_DAEMON_H
#define DS_DAEMON_H

#include "lib/config.h"

/* How long a stop waits for work in flight before leaving it to the next start. */
#define DAEMON_STOP_GRACE_MS 10000

/* Runs the service in the foreground until a stop signal. Creates the data and dump folders when
 * missing (see docs/service.md for their modes). Returns an exit code: 0 after a clean stop, 1 when
 * it could not start (the reason is logged). Call once per process, from the main thread. */
int daemon_run(const struct config *cfg);

/* Asks the running daemon_run to stop as SIGTERM does (work in flight finishes within
 * DAEMON_STOP_GRACE_MS); a stop asked before the loop runs is taken as soon as it does. Thread-safe:
 * for a supervisor's thread such as the Windows service control handler. */
void daemon_request_stop(void);
/* fn(ctx) is called once from daemon_run's thread when start-up has succeeded (the folders are
 * watched): the Windows service then reports RUNNING. Call before daemon_run; NULL removes it. */
void daemon_set_ready_hook(void (*fn)(void *ctx), void *ctx);

#endif
