/* c_decode: decodes latent vectors with libvaert, for the parity tests of every model kind.
 *   c_decode MODEL.vaert Z_FILE PIXELS_FILE [LABELS_FILE] [SCORES_FILE IMAGES_FILE]
 *   c_decode MODEL.vaert Z_FILE PIXELS_FILE encode IMAGES_FILE MOMENTS_FILE
 * Z_FILE holds float32 latent vectors; LABELS_FILE int32 classes (conditional models); PIXELS_FILE
 * receives the decoded float32 pixels. With SCORES_FILE and IMAGES_FILE it also writes the anomaly
 * scores of the float32 images. With "encode" it also encodes the float32 images and writes, per image,
 * mu then log-variance (latent_dim floats each). Prints the kernels in use ("kernels: avx512", "kernels: avx2" or "kernels: baseline").
 * Exits 0, or prints the failure and exits 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vaert.h"
#include "read_all.h"

static int write_all(const char *path, const float *values, size_t count) {
    FILE *f = fopen(path, "wb");
    if (!f) return 1;
    size_t done = fwrite(values, sizeof(float), count, f);
    return (fclose(f) != 0) | (done != count);
}

static int fail(vaert_status status, const char *what) {
    fprintf(stderr, "c_decode: %s: %s (%s)\n", what, vaert_status_string(status), vaert_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5 && argc != 7) { fprintf(stderr, "usage: c_decode MODEL Z PIXELS [LABELS] [SCORES IMAGES]\n"); return 2; }
    printf("kernels: %s\n", vaert_kernels());
    vaert_model *model = NULL;
    vaert_status s = vaert_open_file(argv[1], &model);
    if (s != VAERT_OK) return fail(s, "open");
    size_t latent = 0, channels = 0, height = 0, width = 0, classes = 0, size = 0, label_bytes = 0;
    vaert_get_latent_dim(model, &latent);
    vaert_get_image_shape(model, &channels, &height, &width);
    vaert_get_class_count(model, &classes);
    size_t pixels = channels * height * width;
    float *z = read_all(argv[2], &size);
    size_t batch = size / (latent * sizeof(float));
    int encode = argc == 7 && strcmp(argv[4], "encode") == 0;
    int32_t *labels = argc >= 5 && classes > 0 && !encode ? read_all(argv[4], &label_bytes) : NULL;
    float *out = malloc(batch * pixels * sizeof(float));
    if (!z || !out || (classes > 0 && (!labels || label_bytes != batch * sizeof(int32_t)))) { fprintf(stderr, "c_decode: bad inputs\n"); return 1; }
    if (classes > 0) s = vae_decode_conditional(model, z, labels, batch, out);
    else s = vae_decode(model, z, batch, out);
    if (s != VAERT_OK) return fail(s, "decode");
    if (write_all(argv[3], out, batch * pixels)) { fprintf(stderr, "c_decode: cannot write %s\n", argv[3]); return 1; }
    if (encode) {
        float *images = read_all(argv[5], &size);
        size_t n = size / (pixels * sizeof(float));
        float *mu = malloc(n * latent * sizeof(float)), *logvar = malloc(n * latent * sizeof(float));
        float *moments = malloc(2 * n * latent * sizeof(float));
        if (!images || !mu || !logvar || !moments) { fprintf(stderr, "c_decode: bad images\n"); return 1; }
        s = vae_encode(model, images, n, mu, logvar);
        if (s != VAERT_OK) return fail(s, "encode");
        for (size_t i = 0; i < n; i++) {
            memcpy(moments + 2 * i * latent, mu + i * latent, latent * sizeof(float));
            memcpy(moments + (2 * i + 1) * latent, logvar + i * latent, latent * sizeof(float));
        }
        if (write_all(argv[6], moments, 2 * n * latent)) return 1;
        free(images);
        free(mu);
        free(logvar);
        free(moments);
    } else if (argc == 7) {
        float *images = read_all(argv[6], &size);
        size_t n = size / (pixels * sizeof(float));
        float *scores = malloc(n * sizeof(float));
        if (!images || !scores) { fprintf(stderr, "c_decode: bad images\n"); return 1; }
        s = vaert_anomaly_score(model, images, classes > 0 ? labels : NULL, n, scores);
        if (s != VAERT_OK) return fail(s, "anomaly score");
        if (write_all(argv[5], scores, n)) return 1;
        free(images);
        free(scores);
    }
    free(z);
    free(labels);
    free(out);
    vaert_close(model);
    return 0;
}
