/* decode_example: sample images from a vaert model and write them as JPEGs.
 *
 *   cc decode_example.c $(pkg-config --cflags --libs vaert) -o decode_example
 *   ./decode_example MODEL.vaert OUT_DIR [COUNT [SEED]]
 *
 * Writes OUT_DIR/sample-<i>.jpg for i = 0 .. COUNT-1 (default 8, seed 0): the same images as
 * `decode-cli sample --count COUNT --seed SEED`, since sample i depends only on (seed, i). */
#include <stdio.h>
#include <stdlib.h>

#include "vaert.h"

static int check(vaert_status status, const char *what) {
    if (status == VAERT_OK) return 0;
    fprintf(stderr, "decode_example: %s: %s (%s)\n", what, vaert_status_string(status), vaert_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL.vaert OUT_DIR [COUNT [SEED]]\n", argv[0]);
        return 2;
    }
    size_t count = argc > 3 ? strtoul(argv[3], NULL, 10) : 8;
    uint64_t seed = argc > 4 ? strtoull(argv[4], NULL, 10) : 0;
    if (vaert_version_number() != VAERT_VERSION_NUMBER) {
        fprintf(stderr, "decode_example: built against vaert %s, linked with %s\n", "header", vaert_version_string());
        return 1;
    }

    vaert_model *model = NULL;
    if (check(vaert_open_file(argv[1], &model), argv[1])) return 1;
    size_t latent = 0, channels = 0, height = 0, width = 0;
    check(vaert_get_latent_dim(model, &latent), "latent size");
    check(vaert_get_image_shape(model, &channels, &height, &width), "image shape");
    printf("%s: latent %zu, images %zux%zux%zu\n", argv[1], latent, channels, height, width);

    /* Decode explicit latent vectors: here the samples' own z, drawn by the library. */
    size_t pixels = channels * height * width;
    float *z = malloc(count * latent * sizeof *z);
    float *images = malloc(count * pixels * sizeof *images);
    int failed = !z || !images;
    if (failed) fprintf(stderr, "decode_example: out of memory\n");
    if (!failed) failed = check(vaert_sample_latent(model, seed, 0, count, z), "sample_latent");
    if (!failed) failed = check(vae_decode(model, z, count, images), "decode");
    for (size_t i = 0; !failed && i < count; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/sample-%06zu.jpg", argv[2], i);
        failed = check(vaert_write_jpeg(path, images + i * pixels, channels, height, width, 90), path);
    }
    if (!failed) printf("wrote %zu JPEGs to %s\n", count, argv[2]);
    free(z);
    free(images);
    vaert_close(model);
    return failed;
}
