/* Platform glue for libvaert that Swift cannot express portably: thread-local error text, aligned
 * allocation that reports failure instead of trapping, whole-file reads, atomic file writes, and
 * libjpeg calls guarded by setjmp (libjpeg reports errors by longjmp). Not public API. */
#ifndef VAERT_SUPPORT_H
#define VAERT_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/* The calling thread's last error message (empty string when none). */
void vaert_support_set_message(const char *message, size_t length);
const char *vaert_support_message(void);

/* 64-byte aligned allocation; NULL when the memory is not there. Free with vaert_support_free. */
void *vaert_support_alloc(size_t size);
void vaert_support_free(void *pointer);

/* Reads the whole file at `path` into memory from vaert_support_alloc.
 * Returns 0, or an errno value (ENOMEM when the allocation failed); `*failed_step` says which step
 * failed: 1 open, 2 read. */
int vaert_support_read_file(const char *path, void **data, size_t *size, int *failed_step);

/* Writes `size` bytes to `path` atomically: a temporary file in the same folder, fsync, rename, fsync of the folder.
 * On failure nothing is left behind and the errno value is returned; 0 on success. */
int vaert_support_write_file_atomic(const char *path, const void *data, size_t size);

/* Writes `size` bytes to the file `temporary`, then renames it to `path`, without fsync: after a kill
 * `path` is whole or absent, and only `temporary` can be partial. A power cut may still lose the file:
 * for many small files whose data is made durable once, at the end, by vaert_support_sync_folder.
 * 0 or an errno value; on failure the temporary file is removed. */
int vaert_support_write_file_via(const char *temporary, const char *path, const void *data, size_t size);

/* Makes everything written to the file system that holds `folder` durable (syncfs on Linux, then an
 * fsync of the folder itself). 0 or an errno value. */
int vaert_support_sync_folder(const char *folder);

/* The worker pool: `threads` in all, the calling thread included (1 = no workers). 0 or an errno value. */
int vaert_support_set_threads(size_t threads);
size_t vaert_support_threads(void);

/* Runs task(context, i) for every i in [0, count) on the calling thread and the pool's workers, and
 * returns when all are done. When the pool is busy with another caller's job, runs them all here. */
void vaert_support_parallel_for(size_t count, void (*task)(void *context, size_t index), void *context);

/* The calling thread's scratch buffer `slot` (0 or 1) of at least `size` bytes, 64-byte aligned: grown on
 * demand and kept for the thread's next call (so repeated calls allocate nothing), freed at thread exit.
 * NULL when the memory is not there. */
void *vaert_support_scratch(int slot, size_t size);

/* Text of an errno value. */
const char *vaert_support_strerror(int error_number);

/* Compresses a planar float image (`channels` 1 = gray or 3 = RGB, values clamped to [0, 1], NaN as 0)
 * to a JPEG in a buffer from malloc (free with vaert_support_jpeg_free), a row at a time. Returns 0;
 * 1 with libjpeg's message (a side above its 65500 limit among others); 2 when memory ran out. */
int vaert_support_jpeg_compress(const float *pixels, size_t channels, size_t height, size_t width, int quality,
                                unsigned char **jpeg, unsigned long *jpeg_size, char *message, size_t message_capacity);
void vaert_support_jpeg_free(unsigned char *jpeg);

/* Decodes the JPEG file at `path` to 8-bit samples (rows top to bottom, `*components` 1 = gray or 3 = RGB;
 * CMYK and other spaces are converted to RGB by libjpeg where it can) in a buffer from malloc (free with
 * vaert_support_jpeg_free). Returns 0, or non-zero with a message. */
int vaert_support_jpeg_decompress(const char *path, unsigned char **samples, int *width, int *height, int *components,
                                  char *message, size_t message_capacity);
/* The same from the `size` bytes of a JPEG in memory. */
int vaert_support_jpeg_decompress_memory(const unsigned char *jpeg, unsigned long size, unsigned char **samples, int *width,
                                         int *height, int *components, char *message, size_t message_capacity);

#endif
