/* The worker pool behind vaert_set_threads, and per-thread scratch memory. Between jobs a worker polls
 * for the next one for `poll_nanoseconds`, then sleeps on a condition variable; a caller waiting for the
 * last task polls the same way before it sleeps. Waking a sleeping thread costs tens of microseconds
 * (more in a VM, where the idle CPU has halted), a large part of a 300 µs decode; a short poll keeps
 * back-to-back calls from paying it, and a sparse workload's workers still sleep. One job runs at a
 * time; a caller that finds the pool busy runs its whole job on its own thread, which gives the same
 * results (the tasks are independent). */
#define _GNU_SOURCE
#include "vaert_support.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

enum { max_workers = 255 };
static const long poll_nanoseconds = 100000;

static struct {
    pthread_mutex_t job_lock;   /* held by the caller whose job is running, and while resizing */
    pthread_mutex_t lock;       /* guards the fields below */
    pthread_cond_t work_ready, work_done;
    pthread_t workers[max_workers];
    size_t worker_count;
    unsigned long generation;   /* bumped for each job and for shutdown */
    int shutting_down;
    void (*task)(void *, size_t);
    void *context;
    size_t next, count;
    unsigned long unfinished;   /* also read without the lock, by a polling caller */
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER};

static long elapsed_nanoseconds(const struct timespec *since) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000000000L + (now.tv_nsec - since->tv_nsec);
}

static void pause_briefly(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

/* Polls `*value` (written under pool.lock, read here without it) until it differs from `from` or the
 * poll time is over; called without pool.lock. The caller then checks again under the lock. */
static void poll_while_equal(const unsigned long *value, unsigned long from) {
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (unsigned i = 1; __atomic_load_n(value, __ATOMIC_ACQUIRE) == from; i++) {
        pause_briefly();
        if (i % 64 == 0 && elapsed_nanoseconds(&start) > poll_nanoseconds) return;
    }
}

/* Claims and runs tasks of the current job until none are left; called with pool.lock held. */
static void run_tasks(void) {
    while (pool.next < pool.count) {
        size_t index = pool.next++;
        pthread_mutex_unlock(&pool.lock);
        pool.task(pool.context, index);
        pthread_mutex_lock(&pool.lock);
        __atomic_store_n(&pool.unfinished, pool.unfinished - 1, __ATOMIC_RELEASE);
        if (pool.unfinished == 0) pthread_cond_broadcast(&pool.work_done);
    }
}

/* `created_in` is the generation when the worker was created: every later bump (a job, or the stop
 * that may come before the worker first runs) wakes it, so no wakeup is lost. A worker that reads the
 * generation only when it first runs can miss a stop that came before, and then waits forever. */
static void *worker_main(void *created_in) {
    pthread_mutex_lock(&pool.lock);
    unsigned long seen = (unsigned long)(uintptr_t)created_in;
    for (;;) {
        if (pool.generation == seen) {
            pthread_mutex_unlock(&pool.lock);
            poll_while_equal(&pool.generation, seen);
            pthread_mutex_lock(&pool.lock);
        }
        while (pool.generation == seen) pthread_cond_wait(&pool.work_ready, &pool.lock);
        seen = pool.generation;
        if (pool.shutting_down) break;
        run_tasks();
    }
    pthread_mutex_unlock(&pool.lock);
    return NULL;
}

/* Stops and joins every worker; called with job_lock held. worker_count and shutting_down change under
 * pool.lock too, since vaert_support_threads reads them from any thread. */
static void stop_workers(void) {
    pthread_mutex_lock(&pool.lock);
    pool.shutting_down = 1;
    __atomic_store_n(&pool.generation, pool.generation + 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&pool.work_ready);
    size_t count = pool.worker_count;
    pthread_mutex_unlock(&pool.lock);
    for (size_t i = 0; i < count; i++) pthread_join(pool.workers[i], NULL);
    pthread_mutex_lock(&pool.lock);
    pool.worker_count = 0;
    pool.shutting_down = 0;
    pthread_mutex_unlock(&pool.lock);
}

int vaert_support_set_threads(size_t threads) {
    if (threads == 0 || threads > max_workers + 1) return EINVAL;
    pthread_mutex_lock(&pool.job_lock);
    stop_workers();
    int status = 0;
    pthread_mutex_lock(&pool.lock);
    /* Each new worker starts from this generation, not from the one it finds when it first runs. */
    void *generation = (void *)(uintptr_t)pool.generation;
    while (pool.worker_count < threads - 1) {
        status = pthread_create(&pool.workers[pool.worker_count], NULL, worker_main, generation);
        if (status != 0) break;
        pool.worker_count++;
    }
    pthread_mutex_unlock(&pool.lock);
    if (status != 0) stop_workers();
    pthread_mutex_unlock(&pool.job_lock);
    return status;
}

size_t vaert_support_threads(void) {
    pthread_mutex_lock(&pool.lock);
    size_t threads = pool.worker_count + 1;
    pthread_mutex_unlock(&pool.lock);
    return threads;
}

void vaert_support_parallel_for(size_t count, void (*task)(void *, size_t), void *context) {
    if (count > 1 && pthread_mutex_trylock(&pool.job_lock) == 0) {
        if (pool.worker_count > 0) {
            pthread_mutex_lock(&pool.lock);
            pool.task = task;
            pool.context = context;
            pool.next = 0;
            pool.count = count;
            __atomic_store_n(&pool.unfinished, count, __ATOMIC_RELEASE);
            __atomic_store_n(&pool.generation, pool.generation + 1, __ATOMIC_RELEASE);
            pthread_cond_broadcast(&pool.work_ready);
            run_tasks();
            if (pool.unfinished > 0) {
                unsigned long left = pool.unfinished;
                pthread_mutex_unlock(&pool.lock);
                poll_while_equal(&pool.unfinished, left);
                pthread_mutex_lock(&pool.lock);
            }
            while (pool.unfinished > 0) pthread_cond_wait(&pool.work_done, &pool.lock);
            pthread_mutex_unlock(&pool.lock);
            pthread_mutex_unlock(&pool.job_lock);
            return;
        }
        pthread_mutex_unlock(&pool.job_lock);
    }
    for (size_t i = 0; i < count; i++) task(context, i);
}

/* Per-thread scratch: grown on demand, kept for the thread's next call, freed when the thread exits. */
enum { scratch_slots = 2 };
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
struct scratch { void *pointer[scratch_slots]; size_t size[scratch_slots]; };

static void free_scratch(void *value) {
    struct scratch *s = value;
    for (int i = 0; i < scratch_slots; i++) vaert_support_free(s->pointer[i]);
    free(s);
}

static void make_scratch_key(void) { pthread_key_create(&scratch_key, free_scratch); }

void *vaert_support_scratch(int slot, size_t size) {
    if (slot < 0 || slot >= scratch_slots) return NULL;
    pthread_once(&scratch_once, make_scratch_key);
    struct scratch *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s || pthread_setspecific(scratch_key, s) != 0) { free(s); return NULL; }
    }
    if (s->size[slot] < size) {
        void *grown = vaert_support_alloc(size);
        if (!grown) return NULL;
        vaert_support_free(s->pointer[slot]);
        s->pointer[slot] = grown;
        s->size[slot] = size;
    }
    return s->pointer[slot];
}
