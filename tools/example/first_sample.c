/* first_sample.c: the README's first C program, compiled and run by the tests as it stands there.
 *   cc first_sample.c $(pkg-config --cflags --libs vaert) -o first_sample && ./first_sample fashion-vae.vaert */
#include <stdio.h>

#include "vaert.h"

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "fashion-vae.vaert";
    vaert_model *model = NULL;
    if (vaert_open_file(path, &model) != VAERT_OK) {
        fprintf(stderr, "%s\n", vaert_last_error());                 /* one line: what failed and where */
        return 1;
    }
    size_t latent = 0, channels = 0, height = 0, width = 0;
    vaert_get_latent_dim(model, &latent);
    vaert_get_image_shape(model, &channels, &height, &width);
    float z[2 * 20], pixels[2 * 784];                                 /* room for the course's VAE */
    vaert_status status = latent <= 20 && channels * height * width <= 784 ? VAERT_OK : VAERT_E_UNSUPPORTED;
    if (status == VAERT_OK) status = vaert_sample_latent(model, /*seed*/ 42, /*first index*/ 0, 2, z);
    if (status == VAERT_OK) status = vae_decode(model, z, 2, pixels); /* pixels in [0, 1] */
    if (status == VAERT_OK) status = vaert_write_jpeg("first.jpg", pixels, channels, height, width, 90);
    if (status != VAERT_OK) fprintf(stderr, "%s: %s\n", path, vaert_status_string(status));
    vaert_close(model);
    return status == VAERT_OK ? 0 : 1;
}
