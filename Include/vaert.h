/*
 * vaert.h: the C interface of libvaert, a small runtime for autoencoders and variational autoencoders.
 *
 * A model is one weights file (format: Sources/VAECore/WEIGHTS_FORMAT.md). Open it once, then encode,
 * decode and sample from any number of threads, and write images as JPEG.
 *
 * Conventions for every function:
 *   - Every call that can fail returns a vaert_status; VAERT_OK is 0. On failure vaert_last_error()
 *     returns a one-line message for the calling thread saying what failed and where.
 *   - Sizes and counts are size_t, passed in or returned through out-parameters.
 *   - Images are float arrays of batch x channels x height x width (planar, row-major). Inputs are
 *     normally in [0, 1]; decoded pixels are in [0, 1] when the model's last layer is a sigmoid (every
 *     model vae-train makes), and unbounded otherwise (an imported decoder may end in identity).
 *     Latent vectors are batch x latent_dim floats.
 *   - The library never keeps a pointer you pass in, except the model handle it returns to you.
 *   - Nothing is written halfway: on failure, output arrays may hold partial results but files are
 *     either complete or untouched.
 *   - A batch is 1 to VAERT_MAX_BATCH rows. Batches of any size are processed in passes of at most 256 rows, so the memory a call uses
 *     besides your arrays is bounded and does not grow with the batch. That memory is kept per thread
 *     for the thread's next call: after the first call, running a model allocates nothing.
 *   - Thread safety: every function may be called from any number of threads at once, on one model
 *     handle or several, except vaert_close on a handle in use.
 */
#ifndef VAERT_H
#define VAERT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define VAERT_API __declspec(dllimport)
#elif defined(__GNUC__)
#define VAERT_API __attribute__((visibility("default")))
#else
#define VAERT_API
#endif

/* ---- Versions --------------------------------------------------------------------------------- */

/* The library version of this header. The weights file format has its own version (1), checked when
 * a model is opened. */
#define VAERT_VERSION_MAJOR 0
#define VAERT_VERSION_MINOR 1
#define VAERT_VERSION_PATCH 0
#define VAERT_VERSION_NUMBER (VAERT_VERSION_MAJOR * 10000 + VAERT_VERSION_MINOR * 100 + VAERT_VERSION_PATCH)

/* The weights file format version this library reads. */
#define VAERT_FORMAT_VERSION 1

/* The most rows (images, latent vectors, samples) one call takes: 2^24. No real call comes near it (a
 * batch job calls in chunks); a larger batch, such as a negative number passed as size_t, is refused with
 * VAERT_E_INVALID_ARGUMENT before any array is read. */
#define VAERT_MAX_BATCH ((size_t)1 << 24)

/* Returns VAERT_VERSION_NUMBER of the library actually linked, to compare with the header's. */
VAERT_API unsigned vaert_version_number(void);

/* Returns the linked library's version as "MAJOR.MINOR.PATCH"; a static string, never NULL. */
VAERT_API const char *vaert_version_string(void);

/* ---- Status codes ----------------------------------------------------------------------------- */

/* Every failure has a code; values are pinned and grouped by kind, and never change meaning. */
typedef enum vaert_status {
    VAERT_OK = 0,
    /* arguments */
    VAERT_E_NULL_ARGUMENT = 1,      /* a required pointer is NULL */
    VAERT_E_INVALID_ARGUMENT = 2,   /* a size or count is 0, above its limit, or out of range */
    VAERT_E_NON_FINITE_INPUT = 3,   /* an input value is NaN or infinite */
    VAERT_E_UNSUPPORTED = 4,        /* the model cannot do this (e.g. encode with a decoder-only file) */
    /* I/O */
    VAERT_E_IO_OPEN = 10,           /* a file could not be opened */
    VAERT_E_IO_READ = 11,           /* a file could not be read */
    VAERT_E_IO_WRITE = 12,          /* a file could not be written */
    /* weights file format */
    VAERT_E_BAD_MAGIC = 20,         /* not a vaert weights file */
    VAERT_E_UNSUPPORTED_VERSION = 21, /* a format version this library does not read */
    VAERT_E_BYTE_ORDER = 22,        /* a big-endian file (vaert files are little-endian) */
    VAERT_E_TRUNCATED = 23,         /* the file is shorter than it says */
    VAERT_E_CHECKSUM = 24,          /* the CRC-32 does not match: the file is damaged */
    VAERT_E_MALFORMED = 25,         /* a table, shape, offset or metadata entry is invalid */
    VAERT_E_MISSING_TENSOR = 26,    /* the network needs a tensor or layer the file lacks */
    /* memory */
    VAERT_E_OUT_OF_MEMORY = 30,     /* an allocation failed */
    VAERT_E_BUFFER_TOO_SMALL = 31,  /* a caller's buffer is smaller than the call needs (a workspace) */
    /* JPEG */
    VAERT_E_JPEG = 40               /* libjpeg reported an error (e.g. a side above JPEG's 65500) */
} vaert_status;

/* Returns a fixed description of `status` (static storage, never NULL; unknown codes get a text too).
 * Every status above is returned by some call (a test reaches each one). Thread-safe. */
VAERT_API const char *vaert_status_string(int status);

/* Returns the message of the last failed call on the calling thread ("" if none failed yet).
 * The pointer stays valid until the thread's next failing vaert call. Thread-safe (per-thread). */
VAERT_API const char *vaert_last_error(void);

/* ---- Models ----------------------------------------------------------------------------------- */

/* An opened model. Immutable after opening: any number of threads may use one handle at once. */
typedef struct vaert_model vaert_model;

/* The model families. Variational kinds (VAE, BETA_VAE, CONV_VAE, CVAE): encode gives mu and log sigma^2.
 * Autoencoders (AE, CONV_AE, DAE, SPARSE_AE, CAE): encode gives the code in `mu` and zeros in `logvar`.
 * A CVAE is conditional: use the *_conditional calls with a class label per image.
 * A VQ_VAE's latent is its encoder's grid of D-vectors (latent_dim = D x H x W, channels first): vae_encode
 * gives the grid before quantisation, vae_decode snaps each position's vector to its nearest code vector
 * and decodes, and vae_encode_codes / vae_decode_codes work on the H x W codebook indices. */
typedef enum vaert_kind {
    VAERT_KIND_VAE = 1,      /* MLP variational autoencoder */
    VAERT_KIND_AE = 2,       /* MLP autoencoder */
    VAERT_KIND_BETA_VAE = 3, /* VAE trained with beta > 1 on the KL term */
    VAERT_KIND_CONV_VAE = 4, /* Conv2d encoder, ConvTranspose2d decoder */
    VAERT_KIND_CONV_AE = 5,  /* convolutional autoencoder */
    VAERT_KIND_DAE = 6,      /* denoising autoencoder: encode a corrupted image, decode the clean one */
    VAERT_KIND_SPARSE_AE = 7, /* sparse autoencoder: sigmoid code units with a low mean activation */
    VAERT_KIND_CAE = 8,      /* contractive autoencoder: one sigmoid encoder layer */
    VAERT_KIND_CVAE = 9,     /* conditional VAE: class one-hot joins encoder and decoder inputs */
    VAERT_KIND_VQ_VAE = 10   /* vector-quantised VAE: the code is a grid of codebook indices (vae_encode_codes) */
} vaert_kind;

/* Opens the weights file at `path`, validates all of it (CRC, tables, shapes) and builds the network.
 *   path   NUL-terminated file name; not kept.
 *   model  receives the handle (NULL on failure). Release it with vaert_close.
 * Returns VAERT_OK; VAERT_E_NULL_ARGUMENT; VAERT_E_IO_OPEN (no such file, a directory, no permission);
 * VAERT_E_IO_READ (the system failed to read it, or it ended before its size); VAERT_E_OUT_OF_MEMORY;
 * any format status (VAERT_E_BAD_MAGIC ... VAERT_E_MISSING_TENSOR); VAERT_E_UNSUPPORTED for a model
 * kind this library does not run. Thread-safe. */
VAERT_API vaert_status vaert_open_file(const char *path, vaert_model **model);

/* As vaert_open_file, from `size` bytes at `data` (a whole weights file, e.g. a C array compiled into
 * the program). The bytes are copied: `data` may be freed when the call returns. Thread-safe. */
VAERT_API vaert_status vaert_open_memory(const void *data, size_t size, vaert_model **model);

/* Releases a model. NULL is accepted and ignored. No call may use the handle afterwards; do not close a
 * handle while another thread is using it. A handle of vaert_init_static owns nothing, and closing it
 * does nothing. */
VAERT_API void vaert_close(vaert_model *model);

/* Model queries. Each writes through its out-pointers and returns VAERT_OK, or VAERT_E_NULL_ARGUMENT
 * when `model` or an out-pointer is NULL. Thread-safe. */
VAERT_API vaert_status vaert_get_kind(const vaert_model *model, vaert_kind *kind);
VAERT_API vaert_status vaert_get_latent_dim(const vaert_model *model, size_t *latent_dim);
VAERT_API vaert_status vaert_get_image_shape(const vaert_model *model, size_t *channels, size_t *height, size_t *width);
/* The range of the decoded pixel values: [0, 1] (a sigmoid output; every model vae-train makes), or
 * [-1, 1] (a tanh output, as PyTorch decoders of RGB images in [-1, 1] give; the file's metadata
 * `vaert.image.range`). vaert_write_jpeg takes pixels in [0, 1]: map (v - low) / (high - low) first. */
VAERT_API vaert_status vaert_get_image_range(const vaert_model *model, float *low, float *high);
/* `*has_encoder` is 1 when the file holds an encoder (vae_encode works), 0 for a decoder-only file. */
VAERT_API vaert_status vaert_has_encoder(const vaert_model *model, int *has_encoder);
/* `*classes` is the number of classes of a conditional model (VAERT_KIND_CVAE), 0 for other kinds. */
VAERT_API vaert_status vaert_get_class_count(const vaert_model *model, size_t *classes);
/* For a VQ-VAE (VAERT_KIND_VQ_VAE), `*codebook_size` is its number of code vectors K and `*codes_per_image`
 * the positions of its code grid (H x W); both are 0 for other kinds. */
VAERT_API vaert_status vaert_get_codebook(const vaert_model *model, size_t *codebook_size, size_t *codes_per_image);

/* ---- Running ---------------------------------------------------------------------------------- */

/* Encodes `batch` images into the parameters of q(z | x).
 *   images  batch x channels x height x width floats, in the model's range (vaert_get_image_range: [0, 1],
 *           or [-1, 1] for a tanh model); must be finite.
 *   mu      receives batch x latent_dim floats: the posterior means (the code, for an AE).
 *   logvar  receives batch x latent_dim floats: log sigma^2, clamped to [-30, 20] (zeros for an AE);
 *           may be NULL when not wanted.
 * Returns VAERT_OK; VAERT_E_NULL_ARGUMENT; VAERT_E_INVALID_ARGUMENT (batch 0 or above VAERT_MAX_BATCH);
 * VAERT_E_NON_FINITE_INPUT (nothing written); VAERT_E_UNSUPPORTED (decoder-only file);
 * VAERT_E_OUT_OF_MEMORY. Thread-safe. */
VAERT_API vaert_status vae_encode(const vaert_model *model, const float *images, size_t batch, float *mu, float *logvar);

/* Decodes `batch` latent vectors into images.
 *   z       batch x latent_dim floats; must be finite.
 *   pixels  receives batch x channels x height x width floats: in [0, 1] for a sigmoid output layer.
 * Results are bit-identical whatever the batch size or the thread that computes them.
 * Returns VAERT_OK; VAERT_E_NULL_ARGUMENT; VAERT_E_INVALID_ARGUMENT; VAERT_E_NON_FINITE_INPUT;
 * VAERT_E_OUT_OF_MEMORY. Thread-safe. */
VAERT_API vaert_status vae_decode(const vaert_model *model, const float *z, size_t batch, float *pixels);

/* Writes the latent vectors of samples first_index ... first_index + count - 1 drawn from N(0, I).
 * A VQ-VAE's samples are code grids drawn from the PixelCNN prior its file holds (`vae-train prior`):
 * vaert_sample_codes draws them and vaert_sample (and vaert_sample_ws) decode them; vaert_sample_latent,
 * which needs no memory, returns VAERT_E_UNSUPPORTED for a VQ-VAE, and without a prior so does vaert_sample.
 * Sample i depends only on (seed, i) (Philox4x32-10 counter-based generator, Box-Muller), so a job can
 * be split across calls, threads or machines and give the same samples.
 *   z  receives count x latent_dim floats.
 * Returns VAERT_OK; VAERT_E_NULL_ARGUMENT; VAERT_E_INVALID_ARGUMENT (count 0 or above VAERT_MAX_BATCH,
 * or indices past 2^64). Thread-safe. */
VAERT_API vaert_status vaert_sample_latent(const vaert_model *model, uint64_t seed, uint64_t first_index, size_t count, float *z);

/* Decodes the samples of vaert_sample_latent: pixels receives count x channels x height x width floats.
 * Returns as vaert_sample_latent, plus VAERT_E_OUT_OF_MEMORY. Thread-safe. */
VAERT_API vaert_status vaert_sample(const vaert_model *model, uint64_t seed, uint64_t first_index, size_t count, float *pixels);

/* ---- VQ-VAE codes ------------------------------------------------------------------------------ */

/* Encodes `batch` images of a VQ-VAE into codebook indices.
 *   images  as vae_encode.
 *   codes   receives batch x codes_per_image indices (vaert_get_codebook), each in 0 ... codebook_size - 1:
 *           the nearest code vector to the encoder's vector at each grid position (the lowest index on a tie).
 * Returns as vae_encode, and VAERT_E_UNSUPPORTED for a model that is not a VQ-VAE. Thread-safe. */
VAERT_API vaert_status vae_encode_codes(const vaert_model *model, const float *images, size_t batch, int32_t *codes);

/* Decodes `batch` grids of codebook indices (as vae_encode_codes gives) into images.
 *   pixels  receives batch x channels x height x width floats.
 * vae_decode_codes(vae_encode_codes(x)) equals vae_decode(vae_encode(x)), bit for bit.
 * Returns VAERT_OK; VAERT_E_NULL_ARGUMENT; VAERT_E_INVALID_ARGUMENT (batch 0 or above VAERT_MAX_BATCH,
 * or an index outside the codebook: nothing written); VAERT_E_UNSUPPORTED for a model that is not a
 * VQ-VAE; VAERT_E_OUT_OF_MEMORY. Thread-safe. */
VAERT_API vaert_status vae_decode_codes(const vaert_model *model, const int32_t *codes, size_t batch, float *pixels);

/* Draws the code grids of samples first_index ... first_index + count - 1 from a VQ-VAE's prior:
 * position by position in raster order, each code from the prior's softmax given the codes before it.
 * Grid i depends only on (seed, i), as vaert_sample_latent's samples do.
 *   codes  receives count x codes_per_image indices; vae_decode_codes(codes) equals vaert_sample's pixels.
 * Returns VAERT_OK; VAERT_E_NULL_ARGUMENT; VAERT_E_INVALID_ARGUMENT (count 0 or above VAERT_MAX_BATCH,
 * or indices past 2^64); VAERT_E_UNSUPPORTED for a model that is not a VQ-VAE or whose file holds no
 * prior; VAERT_E_OUT_OF_MEMORY. Thread-safe. */
VAERT_API vaert_status vaert_sample_codes(const vaert_model *model, uint64_t seed, uint64_t first_index, size_t count, int32_t *codes);

/* ---- Conditional models and anomaly scores --------------------------------------------------- */

/* As vae_encode, vae_decode and vaert_sample, for a conditional model (VAERT_KIND_CVAE): `labels` holds
 * one class per image / vector / sample, each in 0 ... classes - 1 (vaert_get_class_count).
 * The plain calls return VAERT_E_NULL_ARGUMENT for a conditional model (it needs labels), and these
 * return VAERT_E_UNSUPPORTED for a model that is not conditional.
 * Returns as the plain calls, plus VAERT_E_INVALID_ARGUMENT for a label out of range. Thread-safe. */
VAERT_API vaert_status vae_encode_conditional(const vaert_model *model, const float *images, const int32_t *labels, size_t batch,
                                              float *mu, float *logvar);
VAERT_API vaert_status vae_decode_conditional(const vaert_model *model, const float *z, const int32_t *labels, size_t batch,
                                              float *pixels);
VAERT_API vaert_status vaert_sample_conditional(const vaert_model *model, uint64_t seed, uint64_t first_index, size_t count,
                                                const int32_t *labels, float *pixels);

/* Writes one anomaly score per image: high for images unlike the training data.
 * Variational kinds: the negative ELBO with z = mu, i.e. reconstruction(x, decode(mu)) + KL(q(z|x) || N(0, I)).
 * Autoencoders: the reconstruction loss of decode(encode(x)). Reconstruction is binary cross-entropy for
 * models trained with BCE, the sum of squared errors for models trained with MSE; nats per image.
 *   images  batch x pixels floats in [0, 1].
 *   labels  one class per image for a conditional model, else NULL.
 *   scores  receives batch floats.
 * Returns as vae_encode. Thread-safe. */
VAERT_API vaert_status vaert_anomaly_score(const vaert_model *model, const float *images, const int32_t *labels, size_t batch,
                                           float *scores);

/* ---- Running in your own memory ---------------------------------------------------------------- */

/* For devices that own their memory. A model can run on the weights where they lie (flash, ROM, a C
 * array from `export-weights --c-array`), and encode / decode / sample can run in a workspace you
 * provide, on the calling thread, with no allocation at all.
 *
 * vaert_open_memory_in_place: as vaert_open_memory, but the `size` bytes at `data` are used where they
 * are, not copied: they must stay valid and unchanged until vaert_close, and `data` must be 64-byte
 * aligned (the format's tensor alignment; `--c-array` output declares _Alignas(64)). Dense layers run on
 * their f32, f16 or int8 weights as stored (f32 layers are not repacked, so large ones run somewhat
 * slower than after vaert_open_memory). Convolutions run on their f32 weights as stored, and widen f16 or
 * int8 weights into the workspace a block of 24 rows at a time (vaert_workspace_size counts it), with the
 * same results as a copied model. The library allocates only the handle: the layer list, and f32 copies
 * of what is not computed as stored (an f16 or int8 bias, or a dense layer's per-channel int8 weights from
 * an older export; none in the files export-weights writes). Returns as vaert_open_memory, and
 * VAERT_E_INVALID_ARGUMENT for a misaligned buffer. */
VAERT_API vaert_status vaert_open_memory_in_place(const void *data, size_t size, vaert_model **model);

/* A model with no heap at all: the handle in memory you give. First the size, then the init:
 *
 *   size_t bytes;  vaert_model_size(model_data, model_size, &bytes);
 *   static unsigned char handle_memory[HANDLE_BYTES];   // at least `bytes`, any alignment
 *   vaert_model *model;  vaert_init_static(model_data, model_size, handle_memory, sizeof handle_memory, &model);
 *
 * `data` is used in place, as by vaert_open_memory_in_place (64-byte aligned, valid and unchanged while
 * the model is used). vaert_model_size validates the whole file (CRC, tables, shapes) and writes the
 * exact bytes the handle needs on any alignment of `memory`: the handle, its layer list and the f32
 * copies vaert_open_memory_in_place would allocate. vaert_init_static validates the file again and
 * builds the model in `memory`. Neither allocates; nor do the queries, vaert_workspace_size and the
 * _ws calls on the handle. So a device's RAM for a model is exactly vaert_model_size's bytes plus
 * vaert_workspace_size's, and the weights stay in flash. (A call that fails builds its one-line message,
 * and in the Embedded build that takes a small allocation: give the device a malloc that can serve a
 * few hundred bytes.) vaert_close on such a handle does nothing:
 * `memory` is yours again once no call uses the handle.
 * Returns VAERT_OK; VAERT_E_NULL_ARGUMENT; VAERT_E_INVALID_ARGUMENT (misaligned data, a size above
 * SIZE_MAX/2); any format status; VAERT_E_UNSUPPORTED; and from vaert_init_static,
 * VAERT_E_BUFFER_TOO_SMALL when memory_size is below vaert_model_size's answer (the message gives both). */
VAERT_API vaert_status vaert_model_size(const void *data, size_t size, size_t *bytes);
VAERT_API vaert_status vaert_init_static(const void *data, size_t size, void *memory, size_t memory_size, vaert_model **model);

/* The operations a workspace is sized for. */
enum { VAERT_OP_ENCODE = 1, VAERT_OP_DECODE = 2, VAERT_OP_SAMPLE = 3 };

/* Writes to *bytes the exact workspace size operation `op` needs for `batch` rows (any alignment of the
 * workspace pointer will do). Returns VAERT_OK; VAERT_E_NULL_ARGUMENT; VAERT_E_INVALID_ARGUMENT (unknown
 * op, batch 0 or above VAERT_MAX_BATCH); VAERT_E_UNSUPPORTED (VAERT_OP_ENCODE on a decoder-only file). */
VAERT_API vaert_status vaert_workspace_size(const vaert_model *model, int op, size_t batch, size_t *bytes);

/* As vae_encode / vae_decode / vaert_sample (and their _conditional forms: `labels` is NULL for an
 * unconditional model), in `workspace_size` bytes at `workspace`, which must be at least
 * vaert_workspace_size's answer. Run on the calling thread; never allocate. Same results, bit for bit,
 * as the calls without a workspace. Besides their statuses, VAERT_E_BUFFER_TOO_SMALL when the workspace
 * is smaller than vaert_workspace_size's answer (the message gives both sizes); a workspace at least that
 * large never fails for lack of room. Thread-safe with distinct workspaces. */
VAERT_API vaert_status vae_encode_ws(const vaert_model *model, const float *images, const int32_t *labels, size_t batch, float *mu,
                                     float *logvar, void *workspace, size_t workspace_size);
VAERT_API vaert_status vae_decode_ws(const vaert_model *model, const float *z, const int32_t *labels, size_t batch, float *pixels,
                                     void *workspace, size_t workspace_size);
VAERT_API vaert_status vaert_sample_ws(const vaert_model *model, uint64_t seed, uint64_t first_index, size_t count, const int32_t *labels,
                                       float *pixels, void *workspace, size_t workspace_size);

/* ---- Threads ---------------------------------------------------------------------------------- */

/* Sets how many threads each encode, decode, sample or anomaly-score call splits its batch across,
 * the calling thread included: 1 (the default) runs on the calling thread only; n > 1 starts n - 1
 * workers shared by the process, which sleep while there is no work. A batch is split by rows, so
 * results are bit-identical for any thread count. When several threads call at once, one call uses the
 * workers and the others run on their own threads. Waits for a running call to finish first.
 * Returns VAERT_OK; VAERT_E_INVALID_ARGUMENT (0 or more than 256); VAERT_E_OUT_OF_MEMORY (a thread could
 * not be started; the setting is then 1). */
VAERT_API vaert_status vaert_set_threads(size_t threads);

/* The current thread count of vaert_set_threads. */
VAERT_API size_t vaert_get_threads(void);

/* The kernels this CPU runs, chosen once from CPUID: "avx512" (AVX-512 F/BW/DQ/VL on top of the AVX2 set),
 * "avx2" (AVX2 + FMA + F16C) or "baseline" (any x86-64, or the portable build elsewhere). The environment
 * variable VAERT_KERNELS, read at the first call, forces a narrower build: "avx2" or "baseline". The
 * AVX2 and AVX-512 builds give the same bits. A static string, never NULL. */
VAERT_API const char *vaert_kernels(void);

/* ---- JPEG ------------------------------------------------------------------------------------- */

/* Writes one image as a baseline JPEG through libjpeg.
 *   path     NUL-terminated file name. The file is written to a temporary name in the same folder,
 *            flushed, then renamed: it is a complete JPEG or it is not touched.
 *   pixels   channels x height x width floats; values are clamped to [0, 1], NaN becomes 0.
 *   channels 1 (grayscale) or 3 (RGB). height, width: at least 1; JPEG's limit is 65500, and libjpeg
 *            refuses larger sides (VAERT_E_JPEG, with its message).
 *   quality  1 to 100 (90 is a good default).
 * Returns VAERT_OK; VAERT_E_NULL_ARGUMENT; VAERT_E_INVALID_ARGUMENT; VAERT_E_JPEG; VAERT_E_OUT_OF_MEMORY;
 * VAERT_E_IO_WRITE (the message names the file and the system's reason). Thread-safe for distinct paths. */
VAERT_API vaert_status vaert_write_jpeg(const char *path, const float *pixels, size_t channels, size_t height, size_t width, int quality);

#ifdef __cplusplus
}
#endif

#endif /* VAERT_H */
