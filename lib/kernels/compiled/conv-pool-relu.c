/*
 * The first block of the course's CNNs as two TensorFlow ops, for graph training (lib/train/graph):
 * a valid 'stride 1' convolution with bias, then 2 x 2 max pooling, then ReLU (the ReLU moved after
 * the pooling, as lib/train/graph/layers.ts does), then the dropout that follows it in the lab's
 * 1-conv model, and its gradient with respect to the filter and the bias. The full-size convolution
 * map (256 x 26 x 26 x 32 floats, 22 MB, for the 1-conv model) is never written: the forward keeps,
 * per pooled value, which of the four positions won (or that the ReLU cut it), and the gradient
 * recomputes nothing but the filter's sums at those positions.
 * TensorFlow's own ops write and read that map four times per step (convolution, pooling, pooling
 * gradient, filter gradient): measured 7.6 ms of the 1-conv's ~20 ms step.
 *
 *   AnalyseImageConvPoolRelu(input [N,H,W,C], filter [KH,KW,C,F], bias [F], seed int32 [2],
 *                            threshold int32 [], scale float [])
 *     -> output [N,(H-KH+1)/2,(W-KW+1)/2,F] float, winner [same] uint8 (0..3, 255: ReLU or dropout cut it)
 *   AnalyseImageConvPoolReluGrad(input, filter, winner, output_gradient, scale) -> filter gradient, bias gradient
 *
 * Dropout: a value is kept, times `scale`, when its 16-bit draw is at least `threshold` (0: no
 * dropout), and multiplied by 0 otherwise, as tfjs multiplies by its mask; a dropped value is marked
 * in `winner` like one the ReLU cut, so the gradient needs only `scale`. The draws come from a
 * counter-based generator: splitmix64's output function over the seed plus the index of each group
 * of four values, 16 bits per value. Done on each image's outputs while they are in cache, it costs
 * next to nothing, where a separate dropout (TensorFlow's five ops, or one compiled op) read and
 * wrote the pooled map once more each way: measured 2 ms of the 1-conv's 14 ms step.
 *
 * Ties in a pooling window go to the first position in row-major order, as TensorFlow's MaxPool.
 * Work is split over the images, one thread per CPU this process may run on.
 */
#include "kernel-api.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CUT 255

/** Sizes of one call, checked against the tensors. */
typedef struct {
  int64_t n, h, w, c, kh, kw, f, ph, pw;
} Shape;

/* ---- forward ---------------------------------------------------------------------------------- */

/** The dropout after the block: threshold 0 keeps every value (scale is then 1). */
typedef struct {
  uint64_t key;
  uint32_t threshold;
  float scale;
} Dropout;

typedef struct {
  Shape s;
  const float *input, *filter, *bias;
  float *output;
  uint8_t *winner;
  Dropout dropout;
} Forward;

/** splitmix64's output function (Steele, Lea and Flood 2014): 64 well-mixed bits of any 64-bit counter. */
static inline __attribute__((always_inline)) uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/** The 16-bit draw of output value `i`: a quarter of the (i / 4 + 1)-th value of the splitmix64 sequence started at `key`. */
static inline __attribute__((always_inline)) uint32_t draw(uint64_t key, int64_t i) {
  return (uint32_t)(mix64(key + (uint64_t)((i >> 2) + 1) * 0x9E3779B97F4A7C15ull) >> (16 * (i & 3))) & 0xFFFF;
}

/** The dropout on one image's outputs, just written (still in cache). */
static inline __attribute__((always_inline)) void drop_image(const Forward *a, int64_t image) {
  const int64_t size = a->s.ph * a->s.pw * a->s.f, begin = image * size;
  const Dropout d = a->dropout;
  float *out = a->output + begin;
  uint8_t *won = a->winner + begin;
  int64_t j = 0;
  /* Each splitmix64 output is computed once for its four values (not once per value), a chunk at a
     time so that the compiler vectorises both loops; on x86 (little-endian) the q-th 16-bit lane of
     a word is its bits 16 q to 16 q + 15, as draw() takes them (the lab's 0.2 dropout, one thread: 0.9 -> 0.36 ms). */
  if (begin % 4 == 0) {
    union { uint64_t word[64]; uint16_t lane[256]; } chunk;
    for (; j + 256 <= size; j += 256) {
      const uint64_t group = (uint64_t)((begin + j) >> 2) + 1;
      for (int g = 0; g < 64; g++) chunk.word[g] = mix64(d.key + (group + (uint64_t)g) * 0x9E3779B97F4A7C15ull);
      for (int t = 0; t < 256; t++) {
        const int kept = chunk.lane[t] >= d.threshold;
        out[j + t] *= kept ? d.scale : 0.0f;
        won[j + t] = kept ? won[j + t] : CUT;
      }
    }
  }
  for (; j < size; j++) {
    const int kept = draw(d.key, begin + j) >= d.threshold;
    out[j] *= kept ? d.scale : 0.0f;
    won[j] = kept ? won[j] : CUT;
  }
}

static inline __attribute__((always_inline)) void forward_image(const Forward *a, int64_t image, const int64_t f) {
  const Shape s = a->s;
  const float *x = a->input + image * s.h * s.w * s.c;
  float best[f], sum[f];
  uint8_t at[f];
  for (int64_t py = 0; py < s.ph; py++) {
    for (int64_t px = 0; px < s.pw; px++) {
      for (int64_t k = 0; k < f; k++) best[k] = -INFINITY, at[k] = 0;
      for (int position = 0; position < 4; position++) {
        const int64_t oy = 2 * py + (position >> 1), ox = 2 * px + (position & 1);
        for (int64_t k = 0; k < f; k++) sum[k] = 0.0f;
        for (int64_t ky = 0; ky < s.kh; ky++) {
          for (int64_t kx = 0; kx < s.kw; kx++) {
            const float *pixel = x + ((oy + ky) * s.w + (ox + kx)) * s.c;
            const float *weights = a->filter + (ky * s.kw + kx) * s.c * f;
            for (int64_t ci = 0; ci < s.c; ci++) {
              const float v = pixel[ci];
              const float *wk = weights + ci * f;
              for (int64_t k = 0; k < f; k++) sum[k] += v * wk[k];
            }
          }
        }
        for (int64_t k = 0; k < f; k++) {
          const float value = sum[k] + a->bias[k];
          if (value > best[k]) best[k] = value, at[k] = (uint8_t)position;
        }
      }
      const int64_t offset = ((image * s.ph + py) * s.pw + px) * f;
      for (int64_t k = 0; k < f; k++) {
        const int kept = best[k] > 0.0f;
        a->output[offset + k] = kept ? best[k] : 0.0f;
        a->winner[offset + k] = kept ? at[k] : CUT;
      }
    }
  }
}

/* Eight floats: GCC lowers it to AVX or AVX-512 registers in each compiled copy. */
typedef float v8f __attribute__((vector_size(32), aligned(4)));
typedef int32_t v8i __attribute__((vector_size(32), aligned(4)));
typedef uint8_t v8u8 __attribute__((vector_size(8), aligned(1)));

/* A vector plus a scalar: GCC broadcasts the scalar with one instruction, where it built the eight-element
   initialiser {v, v, ...} from inserts (measured, lab's first layer, one thread: forward 5.0 -> 2.6 ms,
   gradient 2.8 -> 1.7 ms). */
static inline __attribute__((always_inline)) v8f splat(float v) { return (v8f){0} + v; }

static inline __attribute__((always_inline)) v8f blend(v8i mask, v8f yes, v8f no) { return (v8f)(((v8i)yes & mask) | ((v8i)no & ~mask)); }

/** forward_image for filters = 8 x V: the four positions' sums side by side in vector registers (16 independent chains for 32 filters). */
static inline __attribute__((always_inline)) void forward_image_v8(const Forward *a, int64_t image, const int V, const int64_t KH, const int64_t KW, const int64_t C) {
  const Shape s = a->s;
  const float *x = a->input + image * s.h * s.w * C;
  const v8f *weights = (const v8f *)a->filter, *bias = (const v8f *)a->bias;
  const v8f zero = {0};
  for (int64_t py = 0; py < s.ph; py++) {
    for (int64_t px = 0; px < s.pw; px++) {
      const float *corner = x + (2 * py * s.w + 2 * px) * C;
      v8f sum[4][V];
      for (int position = 0; position < 4; position++)
        for (int j = 0; j < V; j++) sum[position][j] = zero;
      const v8f *w = weights;
#pragma GCC unroll 4
      for (int64_t ky = 0; ky < KH; ky++) {
#pragma GCC unroll 4
        for (int64_t kx = 0; kx < KW; kx++) {
          const float *tap = corner + (ky * s.w + kx) * C;
          for (int64_t ci = 0; ci < C; ci++, w += V) {
            const float *p = tap + ci;
            const v8f p0 = splat(p[0]), p1 = splat(p[C]), p2 = splat(p[s.w * C]), p3 = splat(p[(s.w + 1) * C]);
            for (int j = 0; j < V; j++) {
              const v8f wj = w[j];
              sum[0][j] += p0 * wj;
              sum[1][j] += p1 * wj;
              sum[2][j] += p2 * wj;
              sum[3][j] += p3 * wj;
            }
          }
        }
      }
      const int64_t offset = ((image * s.ph + py) * s.pw + px) * V * 8;
      v8f *out = (v8f *)(a->output + offset);
      uint8_t *winner = a->winner + offset;
      for (int j = 0; j < V; j++) {
        v8f best = sum[0][j] + bias[j];
        v8i at = {0};
        for (int position = 1; position < 4; position++) {
          const v8f value = sum[position][j] + bias[j];
          const v8i better = value > best;
          best = blend(better, value, best);
          at = (better & position) | (~better & at);
        }
        const v8i kept = best > zero;
        out[j] = blend(kept, best, zero);
        /* Integer lanes narrowed in one instruction: a float per lane converted and stored one by one cost as much as the sums (2.6 -> 1.8 ms). */
        const v8i won = (kept & at) | (~kept & CUT);
        *(v8u8 *)(winner + j * 8) = __builtin_convertvector(won, v8u8);
      }
    }
  }
}

VECTORISED static void forward_images(void *arg, int64_t begin, int64_t end, int slot) {
  (void)slot;
  const Forward *a = (const Forward *)arg;
  /* The lab's first layer (3 x 3, one channel, 32 filters) with constant sizes: the compiler unrolls it and keeps every sum in a register. */
  for (int64_t image = begin; image < end; image++) {
    const Shape s = a->s;
    if (s.f == 32 && s.kh == 3 && s.kw == 3 && s.c == 1) forward_image_v8(a, image, 4, 3, 3, 1);
    else if (s.f % 8 == 0) forward_image_v8(a, image, (int)(s.f / 8), s.kh, s.kw, s.c);
    else forward_image(a, image, s.f);
    if (a->dropout.threshold > 0) drop_image(a, image);
  }
}

/* ---- gradient --------------------------------------------------------------------------------- */

typedef struct {
  Shape s;
  const float *input, *gradient;
  const uint8_t *winner;
  /** The dropout's scale of the kept values (1 without dropout). */
  float scale;
  /** One filter-sized block plus one bias-sized block per thread. */
  float *partial;
  int64_t block;
} Backward;

static inline __attribute__((always_inline)) void backward_image(const Backward *a, int64_t image, float *dfilter, float *dbias, const int64_t f) {
  const Shape s = a->s;
  const float *x = a->input + image * s.h * s.w * s.c;
  float share[f], dy[f];
  for (int64_t py = 0; py < s.ph; py++) {
    for (int64_t px = 0; px < s.pw; px++) {
      const int64_t offset = ((image * s.ph + py) * s.pw + px) * f;
      for (int64_t k = 0; k < f; k++) dy[k] = a->gradient[offset + k] * a->scale;
      const uint8_t *won = a->winner + offset;
      for (int64_t k = 0; k < f; k++) dbias[k] += won[k] == CUT ? 0.0f : dy[k];
      for (int position = 0; position < 4; position++) {
        const int64_t oy = 2 * py + (position >> 1), ox = 2 * px + (position & 1);
        for (int64_t k = 0; k < f; k++) share[k] = won[k] == position ? dy[k] : 0.0f;
        for (int64_t ky = 0; ky < s.kh; ky++) {
          for (int64_t kx = 0; kx < s.kw; kx++) {
            const float *pixel = x + ((oy + ky) * s.w + (ox + kx)) * s.c;
            float *dweights = dfilter + (ky * s.kw + kx) * s.c * f;
            for (int64_t ci = 0; ci < s.c; ci++) {
              const float v = pixel[ci];
              float *dw = dweights + ci * f;
              for (int64_t k = 0; k < f; k++) dw[k] += v * share[k];
            }
          }
        }
      }
    }
  }
}

/** backward_image for filters = 8 x V: the four positions' shares in registers, each filter tap loaded and stored once. */
static inline __attribute__((always_inline)) void backward_image_v8(const Backward *a, int64_t image, float *dfilter, float *dbias, const int V, const int64_t KH, const int64_t KW, const int64_t C) {
  const Shape s = a->s;
  const float *x = a->input + image * s.h * s.w * C;
  v8f *dweights = (v8f *)dfilter, *db = (v8f *)dbias;
  const v8f zero = {0};
  for (int64_t py = 0; py < s.ph; py++) {
    for (int64_t px = 0; px < s.pw; px++) {
      const int64_t offset = ((image * s.ph + py) * s.pw + px) * V * 8;
      const v8f *gradient = (const v8f *)(a->gradient + offset);
      const uint8_t *won = a->winner + offset;
      v8f share[4][V];
      for (int j = 0; j < V; j++) {
        v8i w;
        for (int l = 0; l < 8; l++) w[l] = won[j * 8 + l];
        const v8f dy = gradient[j] * a->scale;
        for (int position = 0; position < 4; position++) share[position][j] = blend(w == position, dy, zero);
        db[j] += blend(w != CUT, dy, zero);
      }
      const float *corner = x + (2 * py * s.w + 2 * px) * C;
      for (int64_t ky = 0; ky < KH; ky++) {
        for (int64_t kx = 0; kx < KW; kx++) {
          for (int64_t ci = 0; ci < C; ci++) {
            const float *p = corner + (ky * s.w + kx) * C + ci;
            const v8f p0 = splat(p[0]), p1 = splat(p[C]), p2 = splat(p[s.w * C]), p3 = splat(p[(s.w + 1) * C]);
            v8f *dw = dweights + ((ky * KW + kx) * C + ci) * V;
            for (int j = 0; j < V; j++) dw[j] += p0 * share[0][j] + p1 * share[1][j] + p2 * share[2][j] + p3 * share[3][j];
          }
        }
      }
    }
  }
}

VECTORISED static void backward_images(void *arg, int64_t begin, int64_t end, int slot) {
  const Backward *a = (const Backward *)arg;
  const int64_t filter_size = a->s.kh * a->s.kw * a->s.c * a->s.f;
  float *total = a->partial + slot * a->block;
  /* Each image's sums start from zero and are then added to the thread's: shorter float sums. */
  float *image_sums = total + a->block / 2;
  for (int64_t image = begin; image < end; image++) {
    memset(image_sums, 0, (size_t)(filter_size + a->s.f) * sizeof(float));
    float *dfilter = image_sums, *dbias = image_sums + filter_size;
    const Shape s = a->s;
    if (s.f == 32 && s.kh == 3 && s.kw == 3 && s.c == 1) backward_image_v8(a, image, dfilter, dbias, 4, 3, 3, 1);
    else if (s.f % 8 == 0) backward_image_v8(a, image, dfilter, dbias, (int)(s.f / 8), s.kh, s.kw, s.c);
    else backward_image(a, image, dfilter, dbias, s.f);
    for (int64_t i = 0; i < filter_size + a->s.f; i++) total[i] += image_sums[i];
  }
}

/* ---- kernels ---------------------------------------------------------------------------------- */

/** Reads input, filter and their sizes; 0 (and the op failed) when they do not fit together. */
static int read_shape(TF_OpKernelContext *ctx, TF_Status *status, TF_Tensor *input, TF_Tensor *filter, Shape *s) {
  if (TF_NumDims(input) != 4 || TF_TensorType(input) != TF_FLOAT) return fail(ctx, status, TF_INVALID_ARGUMENT, "AnalyseImageConvPoolRelu: input must be float [batch, height, width, channels]");
  if (TF_NumDims(filter) != 4 || TF_TensorType(filter) != TF_FLOAT) return fail(ctx, status, TF_INVALID_ARGUMENT, "AnalyseImageConvPoolRelu: filter must be float [height, width, channels, filters]");
  *s = (Shape){TF_Dim(input, 0), TF_Dim(input, 1), TF_Dim(input, 2), TF_Dim(input, 3), TF_Dim(filter, 0), TF_Dim(filter, 1), TF_Dim(filter, 3), 0, 0};
  if (TF_Dim(filter, 2) != s->c) return fail(ctx, status, TF_INVALID_ARGUMENT, "AnalyseImageConvPoolRelu: the filter's channels are not the input's");
  if (s->h < s->kh + 1 || s->w < s->kw + 1 || s->f < 1) return fail(ctx, status, TF_INVALID_ARGUMENT, "AnalyseImageConvPoolRelu: the image is too small for the filter and a 2 x 2 pooling");
  s->ph = (s->h - s->kh + 1) / 2;
  s->pw = (s->w - s->kw + 1) / 2;
  return 1;
}

/** A float scalar tensor's value, in *value; 0 when it is not one. */
static int float_scalar(TF_Tensor *tensor, float *value) {
  if (TF_TensorType(tensor) != TF_FLOAT || TF_NumDims(tensor) != 0) return 0;
  *value = *(const float *)TF_TensorData(tensor);
  return 1;
}

/** Reads the dropout's seed, threshold and scale; 0 (and the op failed) when they are not valid. */
static int read_dropout(TF_OpKernelContext *ctx, TF_Status *status, TF_Tensor *seed, TF_Tensor *threshold, TF_Tensor *scale, Dropout *d) {
  if (TF_TensorType(seed) != TF_INT32 || TF_NumDims(seed) != 1 || TF_Dim(seed, 0) != 2) return fail(ctx, status, TF_INVALID_ARGUMENT, "AnalyseImageConvPoolRelu: seed must be int32 [2]");
  const int32_t limit = TF_TensorType(threshold) == TF_INT32 && TF_NumDims(threshold) == 0 ? *(const int32_t *)TF_TensorData(threshold) : -1;
  if (limit < 0 || limit > 65535) return fail(ctx, status, TF_INVALID_ARGUMENT, "AnalyseImageConvPoolRelu: threshold must be an int32 scalar from 0 to 65535");
  if (!float_scalar(scale, &d->scale)) return fail(ctx, status, TF_INVALID_ARGUMENT, "AnalyseImageConvPoolRelu: scale must be a float scalar");
  const int32_t *words = TF_TensorData(seed);
  d->key = mix64(((uint64_t)(uint32_t)words[0] << 32) | (uint32_t)words[1]);
  d->threshold = (uint32_t)limit;
  return 1;
}

static void conv_pool_relu(void *state, TF_OpKernelContext *ctx) {
  (void)state;
  TF_Status *status = TF_NewStatus();
  TF_Tensor *input = NULL, *filter = NULL, *bias = NULL, *seed = NULL, *threshold = NULL, *scale = NULL, *output = NULL, *winner = NULL;
  Shape s;
  TF_GetInput(ctx, 0, &input, status);
  if (TF_GetCode(status) == TF_OK) TF_GetInput(ctx, 1, &filter, status);
  if (TF_GetCode(status) == TF_OK) TF_GetInput(ctx, 2, &bias, status);
  if (TF_GetCode(status) == TF_OK) TF_GetInput(ctx, 3, &seed, status);
  if (TF_GetCode(status) == TF_OK) TF_GetInput(ctx, 4, &threshold, status);
  if (TF_GetCode(status) == TF_OK) TF_GetInput(ctx, 5, &scale, status);
  Dropout dropout;
  if (TF_GetCode(status) != TF_OK) fail(ctx, status, TF_OK, NULL);
  else if (read_shape(ctx, status, input, filter, &s) && read_dropout(ctx, status, seed, threshold, scale, &dropout)) {
    if (TF_NumDims(bias) != 1 || TF_Dim(bias, 0) != s.f || TF_TensorType(bias) != TF_FLOAT) fail(ctx, status, TF_INVALID_ARGUMENT, "AnalyseImageConvPoolRelu: bias must be float [filters]");
    else {
      const int64_t dims[4] = {s.n, s.ph, s.pw, s.f};
      const size_t count = (size_t)(s.n * s.ph * s.pw * s.f);
      output = TF_AllocateOutput(ctx, 0, TF_FLOAT, dims, 4, count * sizeof(float), status);
      if (TF_GetCode(status) == TF_OK) winner = TF_AllocateOutput(ctx, 1, TF_UINT8, dims, 4, count, status);
      if (TF_GetCode(status) != TF_OK) fail(ctx, status, TF_OK, NULL);
      else if (s.n > 0) {
        Forward a = {s, TF_TensorData(input), TF_TensorData(filter), TF_TensorData(bias), TF_TensorData(output), TF_TensorData(winner), dropout};
        int threads = thread_count();
        parallel_for(s.n, threads < s.n ? threads : (int)s.n, forward_images, &a);
      }
    }
  }
  TF_Tensor *tensors[] = {input, filter, bias, seed, threshold, scale, output, winner};
  for (int i = 0; i < 8; i++) if (tensors[i]) TF_DeleteTensor(tensors[i]);
  TF_DeleteStatus(status);
}

static void conv_pool_relu_grad(void *state, TF_OpKernelContext *ctx) {
  (void)state;
  TF_Status *status = TF_NewStatus();
  TF_Tensor *input = NULL, *filter = NULL, *winner = NULL, *gradient = NULL, *scale = NULL, *dfilter = NULL, *dbias = NULL;
  Shape s;
  float kept_scale = 1.0f;
  TF_GetInput(ctx, 0, &input, status);
  if (TF_GetCode(status) == TF_OK) TF_GetInput(ctx, 1, &filter, status);
  if (TF_GetCode(status) == TF_OK) TF_GetInput(ctx, 2, &winner, status);
  if (TF_GetCode(status) == TF_OK) TF_GetInput(ctx, 3, &gradient, status);
  if (TF_GetCode(status) == TF_OK) TF_GetInput(ctx, 4, &scale, status);
  if (TF_GetCode(status) != TF_OK) fail(ctx, status, TF_OK, NULL);
  else if (!float_scalar(scale, &kept_scale)) fail(ctx, status, TF_INVALID_ARGUMENT, "AnalyseImageConvPoolReluGrad: scale must be a float scalar");
  else if (read_shape(ctx, status, input, filter, &s)) {
    const int fits = TF_NumDims(winner) == 4 && TF_NumDims(gradient) == 4 && TF_TensorType(winner) == TF_UINT8 && TF_TensorType(gradient) == TF_FLOAT &&
                     TF_Dim(winner, 0) == s.n && TF_Dim(winner, 1) == s.ph && TF_Dim(winner, 2) == s.pw && TF_Dim(winner, 3) == s.f &&
                     TF_Dim(gradient, 0) == s.n && TF_Dim(gradient, 1) == s.ph && TF_Dim(gradient, 2) == s.pw && TF_Dim(gradient, 3) == s.f;
    if (!fits) fail(ctx, status, TF_INVALID_ARGUMENT, "AnalyseImageConvPoolReluGrad: winner and output_gradient must have the forward output's shape");
    else {
      const int64_t filter_dims[4] = {s.kh, s.kw, s.c, s.f}, bias_dims[1] = {s.f};
      const int64_t filter_size = s.kh * s.kw * s.c * s.f;
      dfilter = TF_AllocateOutput(ctx, 0, TF_FLOAT, filter_dims, 4, (size_t)filter_size * sizeof(float), status);
      if (TF_GetCode(status) == TF_OK) dbias = TF_AllocateOutput(ctx, 1, TF_FLOAT, bias_dims, 1, (size_t)s.f * sizeof(float), status);
      int threads = thread_count();
      if (threads > s.n) threads = s.n > 0 ? (int)s.n : 1;
      const int64_t block = 2 * (filter_size + s.f);
      float *partial = TF_GetCode(status) == TF_OK ? calloc((size_t)(threads * block), sizeof(float)) : NULL;
      if (TF_GetCode(status) != TF_OK) fail(ctx, status, TF_OK, NULL);
      else if (!partial) fail(ctx, status, TF_RESOURCE_EXHAUSTED, "AnalyseImageConvPoolReluGrad: out of memory");
      else {
        Backward a = {s, TF_TensorData(input), TF_TensorData(gradient), TF_TensorData(winner), kept_scale, partial, block};
        if (s.n > 0) parallel_for(s.n, threads, backward_images, &a);
        float *df = TF_TensorData(dfilter), *db = TF_TensorData(dbias);
        for (int64_t i = 0; i < filter_size; i++) {
          float total = 0.0f;
          for (int t = 0; t < threads; t++) total += partial[t * block + i];
          df[i] = total;
        }
        for (int64_t k = 0; k < s.f; k++) {
          float total = 0.0f;
          for (int t = 0; t < threads; t++) total += partial[t * block + filter_size + k];
          db[k] = total;
        }
      }
      free(partial);
    }
  }
  TF_Tensor *tensors[] = {input, filter, winner, gradient, scale, dfilter, dbias};
  for (int i = 0; i < 7; i++) if (tensors[i]) TF_DeleteTensor(tensors[i]);
  TF_DeleteStatus(status);
}

/* ---- shapes ----------------------------------------------------------------------------------- */

/** A dimension's size, or -1 when the graph does not know it. */
static int64_t known_dim(TF_ShapeInferenceContext *ctx, TF_ShapeHandle *shape, int64_t i) {
  TF_DimensionHandle *dim = TF_NewDimensionHandle();
  TF_ShapeInferenceContextDim(ctx, shape, i, dim);
  const int64_t value = TF_DimensionHandleValueKnown(dim) ? TF_DimensionHandleValue(dim) : -1;
  TF_DeleteDimensionHandle(dim);
  return value;
}

/** [batch, pooled height, pooled width, filters] for both outputs, or unknown shapes when the sizes are not known. */
static void forward_shape(TF_ShapeInferenceContext *ctx, TF_Status *status) {
  TF_ShapeHandle *input = TF_NewShapeHandle(), *filter = TF_NewShapeHandle();
  TF_ShapeInferenceContextGetInput(ctx, 0, input, status);
  if (TF_GetCode(status) == TF_OK) TF_ShapeInferenceContextGetInput(ctx, 1, filter, status);
  int known = TF_GetCode(status) == TF_OK && TF_ShapeInferenceContextRankKnown(ctx, input) && TF_ShapeInferenceContextRankKnown(ctx, filter) &&
              TF_ShapeInferenceContextRank(ctx, input) == 4 && TF_ShapeInferenceContextRank(ctx, filter) == 4;
  const int64_t h = known ? known_dim(ctx, input, 1) : -1, w = known ? known_dim(ctx, input, 2) : -1;
  const int64_t kh = known ? known_dim(ctx, filter, 0) : -1, kw = known ? known_dim(ctx, filter, 1) : -1;
  known = known && h > 0 && w > 0 && kh > 0 && kw > 0 && h > kh && w > kw;
  if (!known) {
    if (TF_GetCode(status) == TF_OK) TF_ShapeInferenceContextSetUnknownShape(ctx, status);
  } else {
    TF_ShapeHandle *batch = TF_NewShapeHandle(), *filters = TF_NewShapeHandle(), *rows = TF_NewShapeHandle(), *grid = TF_NewShapeHandle(), *output = TF_NewShapeHandle();
    TF_ShapeHandle *height = TF_ShapeInferenceContextVectorFromSize(ctx, (size_t)((h - kh + 1) / 2));
    TF_ShapeHandle *width = TF_ShapeInferenceContextVectorFromSize(ctx, (size_t)((w - kw + 1) / 2));
    TF_ShapeInferenceContextSubshape(ctx, input, 0, 1, batch, status);
    if (TF_GetCode(status) == TF_OK) TF_ShapeInferenceContextSubshape(ctx, filter, 3, 4, filters, status);
    if (TF_GetCode(status) == TF_OK) TF_ShapeInferenceContextConcatenateShapes(ctx, batch, height, rows, status);
    if (TF_GetCode(status) == TF_OK) TF_ShapeInferenceContextConcatenateShapes(ctx, rows, width, grid, status);
    if (TF_GetCode(status) == TF_OK) TF_ShapeInferenceContextConcatenateShapes(ctx, grid, filters, output, status);
    if (TF_GetCode(status) == TF_OK) TF_ShapeInferenceContextSetOutput(ctx, 0, output, status);
    if (TF_GetCode(status) == TF_OK) TF_ShapeInferenceContextSetOutput(ctx, 1, output, status);
    TF_ShapeHandle *handles[] = {batch, filters, rows, grid, output, height, width};
    for (int i = 0; i < 7; i++) TF_DeleteShapeHandle(handles[i]);
  }
  TF_DeleteShapeHandle(input);
  TF_DeleteShapeHandle(filter);
}

/** The filter's shape, and [filters]. */
static void backward_shape(TF_ShapeInferenceContext *ctx, TF_Status *status) {
  TF_ShapeHandle *filter = TF_NewShapeHandle(), *filters = TF_NewShapeHandle();
  TF_ShapeInferenceContextGetInput(ctx, 1, filter, status);
  if (TF_GetCode(status) == TF_OK && !(TF_ShapeInferenceContextRankKnown(ctx, filter) && TF_ShapeInferenceContextRank(ctx, filter) == 4)) TF_ShapeInferenceContextSetUnknownShape(ctx, status);
  else {
    if (TF_GetCode(status) == TF_OK) TF_ShapeInferenceContextSetOutput(ctx, 0, filter, status);
    if (TF_GetCode(status) == TF_OK) TF_ShapeInferenceContextSubshape(ctx, filter, 3, 4, filters, status);
    if (TF_GetCode(status) == TF_OK) TF_ShapeInferenceContextSetOutput(ctx, 1, filters, status);
  }
  TF_DeleteShapeHandle(filter);
  TF_DeleteShapeHandle(filters);
}
/* ---- registration ----------------------------------------------------------------------------- */

/** Registers both ops and their CPU kernels. */
void register_conv_pool_relu(TF_Status *status) {
  if (TF_GetCode(status) != TF_OK) return;
  TF_OpDefinitionBuilder *forward = TF_NewOpDefinitionBuilder("AnalyseImageConvPoolRelu");
  TF_OpDefinitionBuilderAddInput(forward, "input: float");
  TF_OpDefinitionBuilderAddInput(forward, "filter: float");
  TF_OpDefinitionBuilderAddInput(forward, "bias: float");
  TF_OpDefinitionBuilderAddInput(forward, "seed: int32");
  TF_OpDefinitionBuilderAddInput(forward, "threshold: int32");
  TF_OpDefinitionBuilderAddInput(forward, "scale: float");
  TF_OpDefinitionBuilderAddOutput(forward, "output: float");
  TF_OpDefinitionBuilderAddOutput(forward, "winner: uint8");
  TF_OpDefinitionBuilderSetShapeInferenceFunction(forward, forward_shape);
  TF_RegisterOpDefinition(forward, status);
  if (TF_GetCode(status) == TF_OK) {
    TF_OpDefinitionBuilder *backward = TF_NewOpDefinitionBuilder("AnalyseImageConvPoolReluGrad");
    TF_OpDefinitionBuilderAddInput(backward, "input: float");
    TF_OpDefinitionBuilderAddInput(backward, "filter: float");
    TF_OpDefinitionBuilderAddInput(backward, "winner: uint8");
    TF_OpDefinitionBuilderAddInput(backward, "output_gradient: float");
    TF_OpDefinitionBuilderAddInput(backward, "scale: float");
    TF_OpDefinitionBuilderAddOutput(backward, "filter_gradient: float");
    TF_OpDefinitionBuilderAddOutput(backward, "bias_gradient: float");
    TF_OpDefinitionBuilderSetShapeInferenceFunction(backward, backward_shape);
    TF_RegisterOpDefinition(backward, status);
  }
  if (TF_GetCode(status) == TF_OK) TF_RegisterKernelBuilder("AnalyseImageConvPoolReluCpu", TF_NewKernelBuilder("AnalyseImageConvPoolRelu", "CPU", no_state, conv_pool_relu, no_delete), status);
  if (TF_GetCode(status) == TF_OK) TF_RegisterKernelBuilder("AnalyseImageConvPoolReluGradCpu", TF_NewKernelBuilder("AnalyseImageConvPoolReluGrad", "CPU", no_state, conv_pool_relu_grad, no_delete), status);
}
