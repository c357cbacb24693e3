/* analysis.h - the service's SOS analysis step: runs analyzer/sos_analyze.c on one dump from a pool
 * thread and turns the result into the store's records (contexts, roots, signatures) and a queue verdict.
 * It does not touch the store or the loop; the queue records what it returns. */
#ifndef DS_SERVICE_ANALYSIS_H
#define DS_SERVICE_ANALYSIS_H

#include "worker.h"

/* The worker_analyze_fn the service uses. Verdicts: done (analysed, leak or not), unsupported (no
 * engine, no CLR/DAC for the dump, a dump this OS cannot analyze), failed (the engine crashed or its
 * output could not be used), transient (timeout or stopping: retried with backoff). Pool thread. */
void analysis_run(const struct worker_analysis_in *in, struct worker_analysis_out *out);

#endif
