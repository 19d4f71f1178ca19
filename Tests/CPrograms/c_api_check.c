/* c_api_check: exercises libvaert's C API as a C user would, including every error path it can
 * reach from here, then decodes latent vectors from a file for the parity test.
 *   c_api_check MODEL.vaert Z_FILE PIXELS_FILE
 * Z_FILE holds float32 latent vectors; PIXELS_FILE receives the decoded float32 pixels.
 * Prints "c_api_check: N checks passed" and exits 0, or names the failed check and exits 1. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vaert.h"
#include "read_all.h"

static int checks = 0;
#define CHECK(cond)                                                                      \
    do {                                                                                 \
        checks++;                                                                        \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "c_api_check: failed at line %d: %s (last error: %s)\n", __LINE__, #cond, vaert_last_error()); \
            exit(1);                                                                     \
        }                                                                                \
    } while (0)

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: c_api_check MODEL Z_FILE PIXELS_FILE\n"); return 2; }
    CHECK(vaert_version_number() == VAERT_VERSION_NUMBER);
    CHECK(strcmp(vaert_status_string(VAERT_E_CHECKSUM), "weights file checksum mismatch") == 0);
    CHECK(vaert_status_string(12345) != NULL);

    vaert_model *model = NULL;
    CHECK(vaert_open_file(NULL, &model) == VAERT_E_NULL_ARGUMENT);
    CHECK(vaert_open_file(argv[1], NULL) == VAERT_E_NULL_ARGUMENT);
    CHECK(vaert_open_file("/nonexistent/model.vaert", &model) == VAERT_E_IO_OPEN && model == NULL);
    CHECK(strstr(vaert_last_error(), "/nonexistent/model.vaert") != NULL);

    size_t size = 0;
    unsigned char *bytes = read_all(argv[1], &size);
    CHECK(bytes != NULL && size > 1000);
    CHECK(vaert_open_memory(bytes, size / 2, &model) == VAERT_E_TRUNCATED && model == NULL);
    bytes[0] ^= 0xff;
    CHECK(vaert_open_memory(bytes, size, &model) == VAERT_E_BAD_MAGIC);
    bytes[0] ^= 0xff;
    bytes[size - 1] ^= 0x55;
    CHECK(vaert_open_memory(bytes, size, &model) == VAERT_E_CHECKSUM);
    bytes[size - 1] ^= 0x55;
    CHECK(vaert_open_memory(bytes, size, &model) == VAERT_OK && model != NULL);
    free(bytes); /* the model keeps its own copy */

    vaert_kind kind;
    size_t latent = 0, channels = 0, height = 0, width = 0;
    int has_encoder = 0;
    CHECK(vaert_get_kind(model, &kind) == VAERT_OK && kind == VAERT_KIND_VAE);
    CHECK(vaert_get_kind(NULL, &kind) == VAERT_E_NULL_ARGUMENT);
    CHECK(vaert_get_latent_dim(model, &latent) == VAERT_OK && latent > 0);
    CHECK(vaert_get_image_shape(model, &channels, &height, &width) == VAERT_OK && channels * height * width > 0);
    CHECK(vaert_get_image_shape(model, &channels, NULL, &width) == VAERT_E_NULL_ARGUMENT);
    CHECK(vaert_has_encoder(model, &has_encoder) == VAERT_OK && has_encoder == 1);
    size_t pixels = channels * height * width;

    /* Arguments: zero and huge batches, NULL arrays, non-finite inputs. */
    float z[2 * 64], out[4 * 4096];
    memset(z, 0, sizeof z);
    CHECK(pixels <= 4096 && latent <= 64);
    CHECK(vae_decode(model, z, 0, out) == VAERT_E_INVALID_ARGUMENT);
    CHECK(vae_decode(model, z, (size_t)-1, out) == VAERT_E_INVALID_ARGUMENT);
    CHECK(vae_decode(model, z, ((size_t)1 << 62), out) == VAERT_E_INVALID_ARGUMENT);
    CHECK(vae_decode(model, NULL, 1, out) == VAERT_E_NULL_ARGUMENT);
    CHECK(vae_decode(model, z, 1, NULL) == VAERT_E_NULL_ARGUMENT);
    z[3] = NAN;
    CHECK(vae_decode(model, z, 2, out) == VAERT_E_NON_FINITE_INPUT);
    z[3] = INFINITY;
    CHECK(vae_decode(model, z, 2, out) == VAERT_E_NON_FINITE_INPUT);
    z[3] = 0;
    CHECK(vae_decode(model, z, 2, out) == VAERT_OK);
    for (size_t i = 0; i < 2 * pixels; i++) CHECK(out[i] >= 0 && out[i] <= 1);

    /* Encode, and decode of the posterior mean reconstructs the image roughly. */
    float mu[64], logvar[64];
    CHECK(vae_encode(model, out, 1, mu, logvar) == VAERT_OK);
    CHECK(vae_encode(model, out, 1, mu, NULL) == VAERT_OK);
    CHECK(vae_encode(model, out, 1, NULL, logvar) == VAERT_E_NULL_ARGUMENT);
    for (size_t j = 0; j < latent; j++) CHECK(isfinite(mu[j]) && logvar[j] >= -30 && logvar[j] <= 20);

    /* Sampling: sample i depends only on (seed, i), whatever the batch it is drawn in. */
    float all[4 * 4096], part[2 * 4096];
    CHECK(vaert_sample(model, 99, 0, 4, all) == VAERT_OK);
    CHECK(vaert_sample(model, 99, 2, 2, part) == VAERT_OK);
    CHECK(memcmp(all + 2 * pixels, part, 2 * pixels * sizeof(float)) == 0);
    CHECK(vaert_sample(model, 100, 2, 2, part) == VAERT_OK);
    CHECK(memcmp(all + 2 * pixels, part, 2 * pixels * sizeof(float)) != 0);
    CHECK(vaert_sample(model, 99, UINT64_MAX, 2, part) == VAERT_E_INVALID_ARGUMENT);

    /* JPEG arguments. */
    CHECK(vaert_write_jpeg(NULL, out, channels, height, width, 90) == VAERT_E_NULL_ARGUMENT);
    CHECK(vaert_write_jpeg("/tmp/x.jpg", out, 2, height, width, 90) == VAERT_E_INVALID_ARGUMENT);
    CHECK(vaert_write_jpeg("/tmp/x.jpg", out, channels, height, width, 0) == VAERT_E_INVALID_ARGUMENT);
    CHECK(vaert_write_jpeg("/nonexistent/dir/x.jpg", out, channels, height, width, 90) == VAERT_E_IO_WRITE);

    /* Parity: decode the caller's latent vectors. */
    unsigned char *zbytes = read_all(argv[2], &size);
    CHECK(zbytes != NULL && size % (latent * sizeof(float)) == 0);
    size_t batch = size / (latent * sizeof(float));
    float *decoded = malloc(batch * pixels * sizeof(float));
    CHECK(decoded != NULL);
    CHECK(vae_decode(model, (const float *)zbytes, batch, decoded) == VAERT_OK);
    FILE *f = fopen(argv[3], "wb");
    CHECK(f != NULL && fwrite(decoded, sizeof(float), batch * pixels, f) == batch * pixels);
    CHECK(fclose(f) == 0);
    free(zbytes);
    free(decoded);
    vaert_close(model);
    vaert_close(NULL);
    printf("c_api_check: %d checks passed\n", checks);
    return 0;
}
