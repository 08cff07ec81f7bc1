/* kernel-api.h's threads and kernel helpers. */
#include "kernel-api.h"
#include <pthread.h>
#include <sched.h>

/* ---- threads ---------------------------------------------------------------------------------- */

typedef struct {
  void (*work)(void *, int64_t, int64_t, int);
  void *arg;
  int64_t begin, end;
  int slot;
} Chunk;

static void *run_chunk(void *p) {
  Chunk *chunk = (Chunk *)p;
  chunk->work(chunk->arg, chunk->begin, chunk->end, chunk->slot);
  return NULL;
}

/** CPUs this process may run on (a Slurm job's or a sandbox's share, not the machine's). */
int thread_count(void) {
  cpu_set_t set;
  int count = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
  return count < 1 ? 1 : count > MAX_THREADS ? MAX_THREADS : count;
}

/** work(arg, begin, end, slot) over [0, count) in `threads` chunks, the caller's thread taking the first. */
void parallel_for(int64_t count, int threads, void (*work)(void *, int64_t, int64_t, int), void *arg) {
  Chunk chunks[MAX_THREADS];
  pthread_t ids[MAX_THREADS];
  int started[MAX_THREADS] = {0};
  for (int t = 0; t < threads; t++) chunks[t] = (Chunk){work, arg, count * t / threads, count * (t + 1) / threads, t};
  for (int t = 1; t < threads; t++) started[t] = pthread_create(&ids[t], NULL, run_chunk, &chunks[t]) == 0;
  run_chunk(&chunks[0]);
  for (int t = 1; t < threads; t++) {
    if (started[t]) pthread_join(ids[t], NULL);
    else run_chunk(&chunks[t]);
  }
}

/* ---- kernels ---------------------------------------------------------------------------------- */

void *no_state(TF_OpKernelConstruction *construction) {
  (void)construction;
  return NULL;
}

void no_delete(void *state) { (void)state; }

int fail(TF_OpKernelContext *ctx, TF_Status *status, TF_Code code, const char *message) {
  if (code != TF_OK) TF_SetStatus(status, code, message);
  TF_OpKernelContext_Failure(ctx, status);
  return 0;
}
