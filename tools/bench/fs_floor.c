/* fs_floor: what the file system alone allows a JPEG batch job. Writes COUNT files of SIZE bytes the way
 * decode-cli sample does (each to its thread's staging folder FOLDER/.partial/T, then renamed into
 * FOLDER), on THREADS threads, then syncs the file system once; no decoding and no JPEG encoding.
 * Prints files per second with and without the final sync.
 *   fs_floor FOLDER COUNT SIZE THREADS */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *folder;
static int count, threads;
static size_t size;
static char *data;

static void *work(void *arg) {
    char path[4200], temporary[4200];
    for (int i = (int)(long)arg; i < count; i += threads) {
        snprintf(path, sizeof path, "%s/sample-%06d.jpg", folder, i);
        snprintf(temporary, sizeof temporary, "%s/.partial/%ld/sample-%06d.jpg", folder, (long)arg, i);
        int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd) != 0 || rename(temporary, path) != 0) {
            perror(path);
            exit(1);
        }
    }
    return NULL;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: fs_floor FOLDER COUNT SIZE THREADS\n"); return 2; }
    folder = argv[1];
    count = atoi(argv[2]);
    size = (size_t)atol(argv[3]);
    threads = atoi(argv[4]);
    if (threads < 1 || threads > 64 || count < 1) return 2;
    data = calloc(size, 1);
    char staging[4096];
    snprintf(staging, sizeof staging, "%s/.partial", folder);
    mkdir(folder, 0755);
    mkdir(staging, 0755);
    for (int t = 0; t < threads; t++) {
        char worker[4200];
        snprintf(worker, sizeof worker, "%s/%d", staging, t);
        mkdir(worker, 0755);
    }
    double start = now();
    pthread_t workers[64];
    for (long t = 0; t < threads; t++) pthread_create(&workers[t], NULL, work, (void *)t);
    for (int t = 0; t < threads; t++) pthread_join(workers[t], NULL);
    double written = now();
    int fd = open(folder, O_RDONLY | O_DIRECTORY);
    if (fd < 0 || syncfs(fd) != 0) { perror(folder); return 1; }
    close(fd);
    double synced = now();
    for (int t = 0; t < threads; t++) {
        char worker[4200];
        snprintf(worker, sizeof worker, "%s/%d", staging, t);
        rmdir(worker);
    }
    rmdir(staging);
    printf("%d files of %zu bytes, %d threads: %.0f files/s written, %.0f files/s with the sync (%.2f s + %.2f s)\n", count, size,
           threads, count / (written - start), count / (synced - start), written - start, synced - written);
    return 0;
}
