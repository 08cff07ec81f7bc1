/*
 * The augmentation's resampling of a batch, exported to JavaScript (lib/augment): each image through
 * its matrix, the same double-precision arithmetic as lib/augment/transform.ts's warpImage, bit for
 * bit; warpImages runs on the caller's thread and the CPUs this process may use, warpImagesAsync on
 * libuv's thread pool.
 */
#include "kernel-api.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX512_WARP 1
#endif

/*
 * Each image through its matrix [a, b, e, c, d, f] as scipy's affine_transform(order=1, mode='nearest').
 * The same IEEE double operations in the same order as the JavaScript (no fused multiply-add), so
 * the results are equal bit for bit; 'inside' pixels skip the clamping, as there.
 */
/** One output pixel (all its channels) sampled at (r, q) of the image. */
static inline __attribute__((always_inline)) void warp_pixel(const float *source, float *out, double r, double q, int64_t height, int64_t width, const int64_t channels) {
  const int64_t last_row = height - 1, last_col = width - 1;
  if (r != r || q != q) {
    /* A NaN coordinate: JavaScript's indexing gives undefined, so NaN. */
    for (int64_t k = 0; k < channels; k++) out[k] = NAN;
    return;
  }
  const double r0 = floor(r), q0 = floor(q);
  const double fr = r - r0, fq = q - q0;
  int64_t p00, p01, p10, p11;
  if (channels == 1 && r0 >= 0 && q0 >= 0 && r0 < (double)last_row && q0 < (double)last_col) {
    p00 = (int64_t)r0 * width + (int64_t)q0;
    p01 = p00 + 1, p10 = p00 + width, p11 = p00 + width + 1;
  } else {
    /* Rows and columns clamped to the edge, as warpImage's and warpChannels' branches do. */
    const int64_t ra = r0 < 0 ? 0 : r0 > (double)last_row ? last_row : (int64_t)r0;
    const int64_t rb = r0 < -1 ? 0 : r0 >= (double)last_row ? last_row : (int64_t)r0 + 1;
    const int64_t qa = q0 < 0 ? 0 : q0 > (double)last_col ? last_col : (int64_t)q0;
    const int64_t qb = q0 < -1 ? 0 : q0 >= (double)last_col ? last_col : (int64_t)q0 + 1;
    p00 = ra * width + qa, p01 = ra * width + qb, p10 = rb * width + qa, p11 = rb * width + qb;
  }
  for (int64_t k = 0; k < channels; k++) {
    const double v00 = source[p00 * channels + k], v01 = source[p01 * channels + k], v10 = source[p10 * channels + k], v11 = source[p11 * channels + k];
    out[k] = (float)((v00 * (1 - fq) + v01 * fq) * (1 - fr) + (v10 * (1 - fq) + v11 * fq) * fr);
  }
}

/* Four doubles: the same operations lane by lane as warp_pixel's, four pixels of a row at once. */
typedef double v4d __attribute__((vector_size(32), aligned(8)));
typedef int64_t v4l __attribute__((vector_size(32), aligned(8)));

static inline __attribute__((always_inline)) void warp_pixels(const float *source, float *target, int64_t height, int64_t width, const int64_t channels, const double *m) {
  const double a = m[0], b = m[1], e = m[2], c = m[3], d = m[4], f = m[5];
  const v4d zero = {0}, last_row = zero + (double)(height - 1), last_col = zero + (double)(width - 1);
  float *out = target;
  for (int64_t i = 0; i < height; i++) {
    const double row_r = e + a * (double)i, row_q = f + c * (double)i;
    int64_t j = 0;
    if (channels == 1) {
      for (; j + 4 <= width; j += 4) {
        const v4d jj = {(double)j, (double)(j + 1), (double)(j + 2), (double)(j + 3)};
        const v4d r = row_r + b * jj, q = row_q + d * jj;
        v4d r0, q0;
        for (int l = 0; l < 4; l++) r0[l] = floor(r[l]), q0[l] = floor(q[l]);
        const v4l inside = (r0 >= zero) & (q0 >= zero) & (r0 < last_row) & (q0 < last_col);
        if (!(inside[0] & inside[1] & inside[2] & inside[3])) {
          for (int l = 0; l < 4; l++) warp_pixel(source, out + j + l, r[l], q[l], height, width, 1);
          continue;
        }
        const v4d fr = r - r0, fq = q - q0;
        v4d v00, v01, v10, v11;
        for (int l = 0; l < 4; l++) {
          const int64_t p = (int64_t)r0[l] * width + (int64_t)q0[l];
          v00[l] = source[p], v01[l] = source[p + 1], v10[l] = source[p + width], v11[l] = source[p + width + 1];
        }
        const v4d value = (v00 * (1 - fq) + v01 * fq) * (1 - fr) + (v10 * (1 - fq) + v11 * fq) * fr;
        for (int l = 0; l < 4; l++) out[j + l] = (float)value[l];
      }
    }
    for (; j < width; j++) {
      /* warpChannels' order of operations for several channels, warpImage's (its row term first) for one: the same sums. */
      const double r = channels == 1 ? row_r + b * (double)j : e + a * (double)i + b * (double)j;
      const double q = channels == 1 ? row_q + d * (double)j : f + c * (double)i + d * (double)j;
      warp_pixel(source, out + j * channels, r, q, height, width, channels);
    }
    out += width * channels;
  }
}

#ifdef HAVE_AVX512_WARP
/*
 * warp_pixels for one channel with AVX-512, eight pixels of the flattened image at a time: the same
 * double operations lane by lane. `rows` and `cols` hold each pixel's (i, j) as doubles. The two
 * neighbours of a row are read in one 64-bit gather at the column clamped to [0, width - 2], the
 * edge then taking one value twice: half the gathered elements of four 32-bit gathers (measured on
 * the course's batch: 0.83 -> 0.57 ms on one core), and the clamping without a branch.
 */
__attribute__((target("avx512f,avx512dq,avx512vl,avx2"), optimize("fp-contract=off"))) static void warp_grey_avx512(const float *source, float *out, int64_t height, int64_t width, const double *m, const double *rows, const double *cols) {
  const __m512d a = _mm512_set1_pd(m[0]), b = _mm512_set1_pd(m[1]), e = _mm512_set1_pd(m[2]), c = _mm512_set1_pd(m[3]), d = _mm512_set1_pd(m[4]), f = _mm512_set1_pd(m[5]);
  const __m512d zero = _mm512_setzero_pd(), one = _mm512_set1_pd(1.0);
  const __m512d last_row = _mm512_set1_pd((double)(height - 1)), last_col = _mm512_set1_pd((double)(width - 1)), last_pair = _mm512_set1_pd((double)(width - 2));
  const __m512d row_size = _mm512_set1_pd((double)width);
  const __m512i pairs_apart = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  const int64_t pixels = height * width;
  int64_t p = 0;
  for (; p + 8 <= pixels; p += 8) {
    const __m512d i = _mm512_loadu_pd(rows + p), j = _mm512_loadu_pd(cols + p);
    /* warpImage's order: (e + a i) + b j. */
    const __m512d r = _mm512_add_pd(_mm512_add_pd(e, _mm512_mul_pd(a, i)), _mm512_mul_pd(b, j));
    const __m512d q = _mm512_add_pd(_mm512_add_pd(f, _mm512_mul_pd(c, i)), _mm512_mul_pd(d, j));
    if (_mm512_cmp_pd_mask(r, q, _CMP_UNORD_Q)) {
      for (int l = 0; l < 8; l++) warp_pixel(source, out + p + l, r[l], q[l], height, width, 1);
      continue;
    }
    const __m512d r0 = _mm512_roundscale_pd(r, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC), q0 = _mm512_roundscale_pd(q, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    const __m512d fr = _mm512_sub_pd(r, r0), fq = _mm512_sub_pd(q, q0);
    const __m512d ra = _mm512_min_pd(_mm512_max_pd(r0, zero), last_row);
    const __m512d rb = _mm512_min_pd(_mm512_max_pd(_mm512_add_pd(r0, one), zero), last_row);
    const __m512d qc = _mm512_min_pd(_mm512_max_pd(q0, zero), last_pair);
    const __mmask8 left = _mm512_cmp_pd_mask(q0, zero, _CMP_LT_OQ), right = _mm512_cmp_pd_mask(q0, last_col, _CMP_GE_OQ);
    /* Row x width + column in doubles (small integers: exact), one conversion per index. */
    const __m512i top = _mm512_i32gather_epi64(_mm512_cvttpd_epi32(_mm512_fmadd_pd(ra, row_size, qc)), source, 4);
    const __m512i bottom = _mm512_i32gather_epi64(_mm512_cvttpd_epi32(_mm512_fmadd_pd(rb, row_size, qc)), source, 4);
    /* Each gathered pair's two floats: one permute puts the left ones in the low half, the right ones in the high half. */
    const __m512 tops = _mm512_permutexvar_ps(pairs_apart, _mm512_castsi512_ps(top)), bottoms = _mm512_permutexvar_ps(pairs_apart, _mm512_castsi512_ps(bottom));
    __m512d v00 = _mm512_cvtps_pd(_mm512_castps512_ps256(tops)), v01 = _mm512_cvtps_pd(_mm512_extractf32x8_ps(tops, 1));
    __m512d v10 = _mm512_cvtps_pd(_mm512_castps512_ps256(bottoms)), v11 = _mm512_cvtps_pd(_mm512_extractf32x8_ps(bottoms, 1));
    /* Past the right edge both neighbours are the last column; before the left one, the first. */
    v00 = _mm512_mask_mov_pd(v00, right, v01), v10 = _mm512_mask_mov_pd(v10, right, v11);
    v01 = _mm512_mask_mov_pd(v01, left, v00), v11 = _mm512_mask_mov_pd(v11, left, v10);
    const __m512d gq = _mm512_sub_pd(one, fq), gr = _mm512_sub_pd(one, fr);
    const __m512d upper = _mm512_add_pd(_mm512_mul_pd(v00, gq), _mm512_mul_pd(v01, fq));
    const __m512d lower = _mm512_add_pd(_mm512_mul_pd(v10, gq), _mm512_mul_pd(v11, fq));
    _mm256_storeu_ps(out + p, _mm512_cvtpd_ps(_mm512_add_pd(_mm512_mul_pd(upper, gr), _mm512_mul_pd(lower, fr))));
  }
  for (; p < pixels; p++) warp_pixel(source, out + p, (m[2] + m[0] * rows[p]) + m[1] * cols[p], (m[5] + m[3] * rows[p]) + m[4] * cols[p], height, width, 1);
}
#endif

/** Each pixel's row and column as doubles (the AVX-512 path's lanes), or NULL when that path does not apply. */
typedef struct {
  double *rows, *cols;
} PixelGrid;

__attribute__((optimize("fp-contract=off"))) VECTORISED static void warp_image(const float *source, float *target, int64_t height, int64_t width, int64_t channels, const double *m, const PixelGrid *grid) {
#ifdef HAVE_AVX512_WARP
  if (grid->rows) {
    warp_grey_avx512(source, target, height, width, m, grid->rows, grid->cols);
    return;
  }
#else
  (void)grid;
#endif
  /* Grey images (the course's) with the channel count as a constant. */
  if (channels == 1) warp_pixels(source, target, height, width, 1, m);
  else warp_pixels(source, target, height, width, channels, m);
}

/** Whether this CPU (and its operating system) runs the AVX-512 resampling. */
static int avx512_warp_available(void) {
#ifdef HAVE_AVX512_WARP
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#else
  return 0;
#endif
}

/** One warpImages call: the arrays, and each image's offsets and matrix. */
typedef struct {
  const float *source;
  float *target;
  const int32_t *source_offsets, *target_offsets;
  const double *matrices;
  int64_t height, width, channels;
  PixelGrid grid;
  int64_t count;
} Warp;

static void warp_chunk(void *arg, int64_t begin, int64_t end, int slot) {
  (void)slot;
  const Warp *w = (const Warp *)arg;
  for (int64_t n = begin; n < end; n++) warp_image(w->source + w->source_offsets[n], w->target + w->target_offsets[n], w->height, w->width, w->channels, w->matrices + 6 * n, &w->grid);
}

/** A typed array argument's elements, or NULL when it is not one of `type`. */
static void *typed_array(napi_env env, napi_value value, int type, size_t *length) {
  int actual;
  void *data;
  if (napi_get_typedarray_info(env, value, &actual, length, &data, NULL, NULL) != napi_ok || actual != type) return NULL;
  return data;
}

/*
 * The arguments of warpImages and warpImagesAsync, checked: (source: Float32Array, target:
 * Float32Array, sourceOffsets: Int32Array, targetOffsets: Int32Array, matrices: Float64Array (6 per
 * image), height, width, channels[, portable: boolean]). Returns 0 after throwing a JavaScript error.
 * `portable` skips the AVX-512 path (the tests compare both with JavaScript). The grid, when set,
 * is the caller's to free.
 */
static int read_warp(napi_env env, napi_value *argv, size_t argc, const char *name, Warp *warp) {
  char message[200];
  if (argc < 8 || argc > 9) {
    snprintf(message, sizeof message, "%s takes 8 arguments (9 with portable)", name);
    napi_throw_error(env, NULL, message);
    return 0;
  }
  _Bool portable = 0;
  if (argc == 9) napi_get_value_bool(env, argv[8], &portable);
  size_t source_length, target_length, sources, targets, matrix_values;
  const float *source = typed_array(env, argv[0], napi_float32_array, &source_length);
  float *target = typed_array(env, argv[1], napi_float32_array, &target_length);
  const int32_t *source_offsets = typed_array(env, argv[2], napi_int32_array, &sources);
  const int32_t *target_offsets = typed_array(env, argv[3], napi_int32_array, &targets);
  const double *matrices = typed_array(env, argv[4], napi_float64_array, &matrix_values);
  double height = 0, width = 0, channels = 0;
  napi_get_value_double(env, argv[5], &height);
  napi_get_value_double(env, argv[6], &width);
  napi_get_value_double(env, argv[7], &channels);
  if (!source || !target || !source_offsets || !target_offsets || !matrices || sources != targets || matrix_values != 6 * sources || !(height >= 1 && width >= 1 && channels >= 1)) {
    snprintf(message, sizeof message, "%s: expected Float32Array, Float32Array, Int32Array, Int32Array, Float64Array of 6 per image, height, width, channels", name);
    napi_throw_error(env, NULL, message);
    return 0;
  }
  const size_t size = (size_t)height * (size_t)width * (size_t)channels;
  for (size_t n = 0; n < sources; n++) {
    if (source_offsets[n] < 0 || target_offsets[n] < 0 || (size_t)source_offsets[n] + size > source_length || (size_t)target_offsets[n] + size > target_length) {
      snprintf(message, sizeof message, "%s: an image offset falls outside its array", name);
      napi_throw_error(env, NULL, message);
      return 0;
    }
  }
  *warp = (Warp){source, target, source_offsets, target_offsets, matrices, (int64_t)height, (int64_t)width, (int64_t)channels, {NULL, NULL}, (int64_t)sources};
  const size_t pixels = (size_t)height * (size_t)width;
  double *grid = NULL;
  if (!portable && channels == 1 && width >= 2 && avx512_warp_available() && (grid = malloc(2 * pixels * sizeof(double)))) {
    for (size_t p = 0; p < pixels; p++) grid[p] = (double)(p / (size_t)width), grid[pixels + p] = (double)(p % (size_t)width);
    warp->grid = (PixelGrid){grid, grid + pixels};
  }
  return 1;
}

/* warpImages(...): resamples each image now; throws when an image would fall outside its array. */
static napi_value warp_images(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  Warp warp;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || !read_warp(env, argv, argc, "warpImages", &warp)) return NULL;
  /* Between two training steps libtensorflow's threads are idle: the batch is shared among all CPUs,
   * one thread per 64k pixels at most (starting one costs ~60 us, the time of ~20 of the course's images). */
  int threads = thread_count();
  const int64_t useful = 1 + warp.count * warp.height * warp.width * warp.channels / 65536;
  if (threads > useful) threads = (int)useful;
  if (threads > warp.count) threads = (int)warp.count;
  if (warp.count > 0) parallel_for(warp.count, threads, warp_chunk, &warp);
  free(warp.grid.rows);
  return NULL;
}

/* One warpImagesAsync call: the work, its promise, and references keeping the five arrays alive until it is done. */
typedef struct {
  Warp warp;
  napi_async_work work;
  napi_deferred deferred;
  napi_ref arrays[5];
} AsyncWarp;

static void async_warp_execute(napi_env env, void *data) {
  (void)env;
  AsyncWarp *job = (AsyncWarp *)data;
  /* On libuv's thread while JavaScript runs a training step (which uses every CPU): one thread. */
  if (job->warp.count > 0) warp_chunk(&job->warp, 0, job->warp.count, 0);
}

static void async_warp_complete(napi_env env, napi_status status, void *data) {
  AsyncWarp *job = (AsyncWarp *)data;
  napi_value result;
  if (status == napi_ok) {
    napi_get_undefined(env, &result);
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    napi_create_string_utf8(env, "warpImagesAsync: the work was cancelled", NAPI_AUTO_LENGTH, &result);
    napi_reject_deferred(env, job->deferred, result);
  }
  for (int i = 0; i < 5; i++) napi_delete_reference(env, job->arrays[i]);
  napi_delete_async_work(env, job->work);
  free(job->warp.grid.rows);
  free(job);
}

/* warpImagesAsync(...): the same resampling on libuv's thread pool; returns a promise, resolved when `target` is written. */
static napi_value warp_images_async(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  AsyncWarp *job = calloc(1, sizeof *job);
  if (!job) {
    napi_throw_error(env, NULL, "warpImagesAsync: out of memory");
    return NULL;
  }
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || !read_warp(env, argv, argc, "warpImagesAsync", &job->warp)) {
    free(job);
    return NULL;
  }
  napi_value promise, name;
  for (int i = 0; i < 5; i++) napi_create_reference(env, argv[i], 1, &job->arrays[i]);
  napi_create_string_utf8(env, "analyse-image:warpImages", NAPI_AUTO_LENGTH, &name);
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok || napi_create_async_work(env, NULL, name, async_warp_execute, async_warp_complete, job, &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    for (int i = 0; i < 5; i++) napi_delete_reference(env, job->arrays[i]);
    free(job->warp.grid.rows);
    free(job);
    napi_throw_error(env, NULL, "warpImagesAsync: could not queue the work");
    return NULL;
  }
  return promise;
}

void export_warp(napi_env env, napi_value exports) {
  napi_value warp;
  if (napi_create_function(env, "warpImages", 10, warp_images, NULL, &warp) == napi_ok) napi_set_named_property(env, exports, "warpImages", warp);
  if (napi_create_function(env, "warpImagesAsync", 15, warp_images_async, NULL, &warp) == napi_ok) napi_set_named_property(env, exports, "warpImagesAsync", warp);
  const char *warp_path = avx512_warp_available() ? "avx512" : "portable";
  napi_value path;
  if (napi_create_string_utf8(env, warp_path, strlen(warp_path), &path) == napi_ok) napi_set_named_property(env, exports, "warpInstructions", path);
}
