/*
 * The first block of the course's CNNs as two TensorFlow ops, for graph training (lib/train/graph):
 * a valid 'stride 1' convolution with bias, then 2 x 2 max pooling, then ReLU (the ReLU moved after
 * the pooling, as lib/train/graph/layers.ts does), and its gradient with respect to the filter and
 * the bias. The full-size convolution map (256 x 26 x 26 x 32 floats, 22 MB, for the 1-conv model)
 * is never written: the forward keeps, per pooled value, which of the four positions won (or that
 * the ReLU cut it), and the gradient recomputes nothing but the filter's sums at those positions.
 * TensorFlow's own ops write and read that map four times per step (convolution, pooling, pooling
 * gradient, filter gradient): measured 7.6 ms of the 1-conv's ~20 ms step.
 *
 *   AnalyseImageConvPoolRelu(input [N,H,W,C], filter [KH,KW,C,F], bias [F])
 *     -> output [N,(H-KH+1)/2,(W-KW+1)/2,F] float, winner [same] uint8 (0..3, 255: ReLU cut it)
 *   AnalyseImageConvPoolReluGrad(input, winner, output_gradient) -> filter gradient, bias gradient
 *
 * Ties in a pooling window go to the first position in row-major order, as TensorFlow's MaxPool.
 * Work is split over the images, one thread per CPU this process may run on.
 *
 * The library also exports warpImages to JavaScript (lib/augment): the augmentation's resampling of a
 * batch, the same double-precision arithmetic as lib/augment/transform.ts's warpImage, bit for bit.
 */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX512_WARP 1
#endif

/*
 * The declarations of TensorFlow's C kernel API (tensorflow/c/kernels.h, ops.h, tf_tensor.h,
 * tf_status.h) used here, written out because libtensorflow's download ships only c_api.h's
 * family: the functions are part of its stable C ABI on both of set-up's routes.
 */
typedef struct TF_Status TF_Status;
typedef struct TF_Tensor TF_Tensor;
typedef struct TF_OpKernelConstruction TF_OpKernelConstruction;
typedef struct TF_OpKernelContext TF_OpKernelContext;
typedef struct TF_KernelBuilder TF_KernelBuilder;
typedef struct TF_OpDefinitionBuilder TF_OpDefinitionBuilder;
typedef struct TF_ShapeInferenceContext TF_ShapeInferenceContext;
typedef struct TF_ShapeHandle TF_ShapeHandle;
typedef struct TF_DimensionHandle TF_DimensionHandle;
typedef int TF_DataType;
typedef int TF_Code;
enum { TF_FLOAT = 1, TF_UINT8 = 4 };
enum { TF_OK = 0, TF_INVALID_ARGUMENT = 3, TF_RESOURCE_EXHAUSTED = 8 };

extern TF_Status *TF_NewStatus(void);
extern void TF_DeleteStatus(TF_Status *);
extern TF_Code TF_GetCode(const TF_Status *);
extern const char *TF_Message(const TF_Status *);
extern void TF_SetStatus(TF_Status *, TF_Code, const char *);
extern TF_OpDefinitionBuilder *TF_NewOpDefinitionBuilder(const char *);
extern void TF_OpDefinitionBuilderAddInput(TF_OpDefinitionBuilder *, const char *);
extern void TF_OpDefinitionBuilderAddOutput(TF_OpDefinitionBuilder *, const char *);
extern void TF_RegisterOpDefinition(TF_OpDefinitionBuilder *, TF_Status *);
extern void TF_OpDefinitionBuilderSetShapeInferenceFunction(TF_OpDefinitionBuilder *, void (*)(TF_ShapeInferenceContext *, TF_Status *));
extern TF_ShapeHandle *TF_NewShapeHandle(void);
extern void TF_DeleteShapeHandle(TF_ShapeHandle *);
extern TF_DimensionHandle *TF_NewDimensionHandle(void);
extern void TF_DeleteDimensionHandle(TF_DimensionHandle *);
extern void TF_ShapeInferenceContextGetInput(TF_ShapeInferenceContext *, int, TF_ShapeHandle *, TF_Status *);
extern void TF_ShapeInferenceContextSetOutput(TF_ShapeInferenceContext *, int, TF_ShapeHandle *, TF_Status *);
extern void TF_ShapeInferenceContextSetUnknownShape(TF_ShapeInferenceContext *, TF_Status *);
extern int TF_ShapeInferenceContextRankKnown(TF_ShapeInferenceContext *, TF_ShapeHandle *);
extern int64_t TF_ShapeInferenceContextRank(TF_ShapeInferenceContext *, TF_ShapeHandle *);
extern void TF_ShapeInferenceContextDim(TF_ShapeInferenceContext *, TF_ShapeHandle *, int64_t, TF_DimensionHandle *);
extern int TF_DimensionHandleValueKnown(TF_DimensionHandle *);
extern int64_t TF_DimensionHandleValue(TF_DimensionHandle *);
extern TF_ShapeHandle *TF_ShapeInferenceContextVectorFromSize(TF_ShapeInferenceContext *, size_t);
extern void TF_ShapeInferenceContextConcatenateShapes(TF_ShapeInferenceContext *, TF_ShapeHandle *, TF_ShapeHandle *, TF_ShapeHandle *, TF_Status *);
extern void TF_ShapeInferenceContextSubshape(TF_ShapeInferenceContext *, TF_ShapeHandle *, int64_t, int64_t, TF_ShapeHandle *, TF_Status *);
extern TF_KernelBuilder *TF_NewKernelBuilder(const char *, const char *, void *(*)(TF_OpKernelConstruction *), void (*)(void *, TF_OpKernelContext *), void (*)(void *));
extern void TF_RegisterKernelBuilder(const char *, TF_KernelBuilder *, TF_Status *);
extern void TF_GetInput(TF_OpKernelContext *, int, TF_Tensor **, TF_Status *);
extern TF_Tensor *TF_AllocateOutput(TF_OpKernelContext *, int, TF_DataType, const int64_t *, int, size_t, TF_Status *);
extern void TF_OpKernelContext_Failure(TF_OpKernelContext *, TF_Status *);
extern int TF_NumDims(const TF_Tensor *);
extern int64_t TF_Dim(const TF_Tensor *, int);
extern TF_DataType TF_TensorType(const TF_Tensor *);
extern void *TF_TensorData(const TF_Tensor *);
extern void TF_DeleteTensor(TF_Tensor *);

#define CUT 255
#define MAX_THREADS 64

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(ANALYSE_IMAGE_NO_CLONES)
/* One compiled copy per instruction set, chosen when the library loads. */
#define VECTORISED __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VECTORISED
#endif

/** Sizes of one call, checked against the tensors. */
typedef struct {
  int64_t n, h, w, c, kh, kw, f, ph, pw;
} Shape;

/* ---- threads ---------------------------------------------------------------------------------- */

typedef struct {
  void (*work)(void *, int64_t, int64_t, int);
  void *arg;
  int64_t begin, end;
  int slot;
} Chunk;

static void *run_chunk(void *p) {
  Chunk *chunk = (Chunk *)p;
  chunk->work(chunk->arg, chunk->begin, chunk->end, chunk->slot);
  return NULL;
}

/** CPUs this process may run on (a Slurm job's or a sandbox's share, not the machine's). */
static int thread_count(void) {
  cpu_set_t set;
  int count = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
  return count < 1 ? 1 : count > MAX_THREADS ? MAX_THREADS : count;
}

/** work(arg, begin, end, slot) over [0, count) in `threads` chunks, the caller's thread taking the first. */
static void parallel_for(int64_t count, int threads, void (*work)(void *, int64_t, int64_t, int), void *arg) {
  Chunk chunks[MAX_THREADS];
  pthread_t ids[MAX_THREADS];
  int started[MAX_THREADS] = {0};
  for (int t = 0; t < threads; t++) chunks[t] = (Chunk){work, arg, count * t / threads, count * (t + 1) / threads, t};
  for (int t = 1; t < threads; t++) started[t] = pthread_create(&ids[t], NULL, run_chunk, &chunks[t]) == 0;
  run_chunk(&chunks[0]);
  for (int t = 1; t < threads; t++) {
    if (started[t]) pthread_join(ids[t], NULL);
    else run_chunk(&chunks[t]);
  }
}

/* ---- forward ---------------------------------------------------------------------------------- */

typedef struct {
  Shape s;
  const float *input, *filter, *bias;
  float *output;
  uint8_t *winner;
} Forward;

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

static inline __attribute__((always_inline)) v8f splat(float v) { return (v8f){v, v, v, v, v, v, v, v}; }

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
      for (int64_t ky = 0; ky < KH; ky++) {
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
        v8f best = sum[0][j] + bias[j], at = zero;
        for (int position = 1; position < 4; position++) {
          const v8f value = sum[position][j] + bias[j];
          const v8i better = value > best;
          best = blend(better, value, best);
          at = blend(better, zero + (float)position, at);
        }
        const v8i kept = best > zero;
        out[j] = blend(kept, best, zero);
        const v8f won = blend(kept, at, zero + (float)CUT);
        for (int l = 0; l < 8; l++) winner[j * 8 + l] = (uint8_t)won[l];
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
  }
}

/* ---- gradient --------------------------------------------------------------------------------- */

typedef struct {
  Shape s;
  const float *input, *gradient;
  const uint8_t *winner;
  /** One filter-sized block plus one bias-sized block per thread. */
  float *partial;
  int64_t block;
} Backward;

static inline __attribute__((always_inline)) void backward_image(const Backward *a, int64_t image, float *dfilter, float *dbias, const int64_t f) {
  const Shape s = a->s;
  const float *x = a->input + image * s.h * s.w * s.c;
  float share[f];
  for (int64_t py = 0; py < s.ph; py++) {
    for (int64_t px = 0; px < s.pw; px++) {
      const int64_t offset = ((image * s.ph + py) * s.pw + px) * f;
      const float *dy = a->gradient + offset;
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
      const v8f *dy = (const v8f *)(a->gradient + offset);
      const uint8_t *won = a->winner + offset;
      v8f share[4][V];
      for (int j = 0; j < V; j++) {
        v8i w;
        for (int l = 0; l < 8; l++) w[l] = won[j * 8 + l];
        for (int position = 0; position < 4; position++) share[position][j] = blend(w == position, dy[j], zero);
        db[j] += blend(w != CUT, dy[j], zero);
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

static void *no_state(TF_OpKernelConstruction *construction) {
  (void)construction;
  return NULL;
}

static void no_delete(void *state) { (void)state; }

static int fail(TF_OpKernelContext *ctx, TF_Status *status, TF_Code code, const char *message) {
  if (code != TF_OK) TF_SetStatus(status, code, message);
  TF_OpKernelContext_Failure(ctx, status);
  return 0;
}

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

static void conv_pool_relu(void *state, TF_OpKernelContext *ctx) {
  (void)state;
  TF_Status *status = TF_NewStatus();
  TF_Tensor *input = NULL, *filter = NULL, *bias = NULL, *output = NULL, *winner = NULL;
  Shape s;
  TF_GetInput(ctx, 0, &input, status);
  if (TF_GetCode(status) == TF_OK) TF_GetInput(ctx, 1, &filter, status);
  if (TF_GetCode(status) == TF_OK) TF_GetInput(ctx, 2, &bias, status);
  if (TF_GetCode(status) != TF_OK) fail(ctx, status, TF_OK, NULL);
  else if (read_shape(ctx, status, input, filter, &s)) {
    if (TF_NumDims(bias) != 1 || TF_Dim(bias, 0) != s.f || TF_TensorType(bias) != TF_FLOAT) fail(ctx, status, TF_INVALID_ARGUMENT, "AnalyseImageConvPoolRelu: bias must be float [filters]");
    else {
      const int64_t dims[4] = {s.n, s.ph, s.pw, s.f};
      const size_t count = (size_t)(s.n * s.ph * s.pw * s.f);
      output = TF_AllocateOutput(ctx, 0, TF_FLOAT, dims, 4, count * sizeof(float), status);
      if (TF_GetCode(status) == TF_OK) winner = TF_AllocateOutput(ctx, 1, TF_UINT8, dims, 4, count, status);
      if (TF_GetCode(status) != TF_OK) fail(ctx, status, TF_OK, NULL);
      else if (s.n > 0) {
        Forward a = {s, TF_TensorData(input), TF_TensorData(filter), TF_TensorData(bias), TF_TensorData(output), TF_TensorData(winner)};
        int threads = thread_count();
        parallel_for(s.n, threads < s.n ? threads : (int)s.n, forward_images, &a);
      }
    }
  }
  TF_Tensor *tensors[] = {input, filter, bias, output, winner};
  for (int i = 0; i < 5; i++) if (tensors[i]) TF_DeleteTensor(tensors[i]);
  TF_DeleteStatus(status);
}

static void conv_pool_relu_grad(void *state, TF_OpKernelContext *ctx) {
  (void)state;
  TF_Status *status = TF_NewStatus();
  TF_Tensor *input = NULL, *filter = NULL, *winner = NULL, *gradient = NULL, *dfilter = NULL, *dbias = NULL;
  Shape s;
  TF_GetInput(ctx, 0, &input, status);
  if (TF_GetCode(status) == TF_OK) TF_GetInput(ctx, 1, &filter, status);
  if (TF_GetCode(status) == TF_OK) TF_GetInput(ctx, 2, &winner, status);
  if (TF_GetCode(status) == TF_OK) TF_GetInput(ctx, 3, &gradient, status);
  if (TF_GetCode(status) != TF_OK) fail(ctx, status, TF_OK, NULL);
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
        Backward a = {s, TF_TensorData(input), TF_TensorData(gradient), TF_TensorData(winner), partial, block};
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
  TF_Tensor *tensors[] = {input, filter, winner, gradient, dfilter, dbias};
  for (int i = 0; i < 6; i++) if (tensors[i]) TF_DeleteTensor(tensors[i]);
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

static char registration_error[512];

/** Registers both ops and their CPU kernels; 0 on success, else TensorFlow's message is in registration_error. */
static int register_ops(void) {
  TF_Status *status = TF_NewStatus();
  TF_OpDefinitionBuilder *forward = TF_NewOpDefinitionBuilder("AnalyseImageConvPoolRelu");
  TF_OpDefinitionBuilderAddInput(forward, "input: float");
  TF_OpDefinitionBuilderAddInput(forward, "filter: float");
  TF_OpDefinitionBuilderAddInput(forward, "bias: float");
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
    TF_OpDefinitionBuilderAddOutput(backward, "filter_gradient: float");
    TF_OpDefinitionBuilderAddOutput(backward, "bias_gradient: float");
    TF_OpDefinitionBuilderSetShapeInferenceFunction(backward, backward_shape);
    TF_RegisterOpDefinition(backward, status);
  }
  if (TF_GetCode(status) == TF_OK) TF_RegisterKernelBuilder("AnalyseImageConvPoolReluCpu", TF_NewKernelBuilder("AnalyseImageConvPoolRelu", "CPU", no_state, conv_pool_relu, no_delete), status);
  if (TF_GetCode(status) == TF_OK) TF_RegisterKernelBuilder("AnalyseImageConvPoolReluGradCpu", TF_NewKernelBuilder("AnalyseImageConvPoolReluGrad", "CPU", no_state, conv_pool_relu_grad, no_delete), status);
  const int failed = TF_GetCode(status) != TF_OK;
  if (failed) snprintf(registration_error, sizeof registration_error, "%s", TF_Message(status));
  TF_DeleteStatus(status);
  return failed;
}

/* ---- augmentation's resampling (lib/augment/transform.ts warpImage, exported to JavaScript) ---- */

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
  const __m256i row_size = _mm256_set1_epi32((int)width);
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
    const __m256i ra = _mm512_cvttpd_epi32(_mm512_min_pd(_mm512_max_pd(r0, zero), last_row));
    const __m256i rb = _mm512_cvttpd_epi32(_mm512_min_pd(_mm512_max_pd(_mm512_add_pd(r0, one), zero), last_row));
    const __m256i qc = _mm512_cvttpd_epi32(_mm512_min_pd(_mm512_max_pd(q0, zero), last_pair));
    const __mmask8 left = _mm512_cmp_pd_mask(q0, zero, _CMP_LT_OQ), right = _mm512_cmp_pd_mask(q0, last_col, _CMP_GE_OQ);
    const __m512i top = _mm512_i32gather_epi64(_mm256_add_epi32(_mm256_mullo_epi32(ra, row_size), qc), source, 4);
    const __m512i bottom = _mm512_i32gather_epi64(_mm256_add_epi32(_mm256_mullo_epi32(rb, row_size), qc), source, 4);
    __m512d v00 = _mm512_cvtps_pd(_mm256_castsi256_ps(_mm512_cvtepi64_epi32(top)));
    __m512d v01 = _mm512_cvtps_pd(_mm256_castsi256_ps(_mm512_cvtepi64_epi32(_mm512_srli_epi64(top, 32))));
    __m512d v10 = _mm512_cvtps_pd(_mm256_castsi256_ps(_mm512_cvtepi64_epi32(bottom)));
    __m512d v11 = _mm512_cvtps_pd(_mm256_castsi256_ps(_mm512_cvtepi64_epi32(_mm512_srli_epi64(bottom, 32))));
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

/*
 * Node loads this library with process.dlopen, which calls N-API's module entry point: the ops are
 * registered there, once, and `registered` (true, or TensorFlow's message) is set on the exports.
 * N-API's C functions are declared here (a stable ABI, exported by node itself): no Node header is needed.
 */
typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_callback_info__ *napi_callback_info;
typedef int napi_status;
typedef napi_value (*napi_callback)(napi_env, napi_callback_info);
enum { napi_ok = 0, napi_int32_array = 5, napi_float32_array = 7, napi_float64_array = 8 };
extern napi_status napi_get_boolean(napi_env, _Bool, napi_value *);
extern napi_status napi_create_string_utf8(napi_env, const char *, size_t, napi_value *);
extern napi_status napi_set_named_property(napi_env, napi_value, const char *, napi_value);
extern napi_status napi_create_function(napi_env, const char *, size_t, napi_callback, void *, napi_value *);
extern napi_status napi_get_cb_info(napi_env, napi_callback_info, size_t *, napi_value *, napi_value *, void **);
extern napi_status napi_get_typedarray_info(napi_env, napi_value, int *, size_t *, void **, napi_value *, size_t *);
extern napi_status napi_get_value_double(napi_env, napi_value, double *);
extern napi_status napi_get_value_bool(napi_env, napi_value, _Bool *);
extern napi_status napi_throw_error(napi_env, const char *, const char *);
typedef struct napi_async_work__ *napi_async_work;
typedef struct napi_deferred__ *napi_deferred;
typedef struct napi_ref__ *napi_ref;
typedef void (*napi_async_execute_callback)(napi_env, void *);
typedef void (*napi_async_complete_callback)(napi_env, napi_status, void *);
#define NAPI_AUTO_LENGTH SIZE_MAX
extern napi_status napi_get_undefined(napi_env, napi_value *);
extern napi_status napi_create_reference(napi_env, napi_value, uint32_t, napi_ref *);
extern napi_status napi_delete_reference(napi_env, napi_ref);
extern napi_status napi_create_promise(napi_env, napi_deferred *, napi_value *);
extern napi_status napi_resolve_deferred(napi_env, napi_deferred, napi_value);
extern napi_status napi_reject_deferred(napi_env, napi_deferred, napi_value);
extern napi_status napi_create_async_work(napi_env, napi_value, napi_value, napi_async_execute_callback, napi_async_complete_callback, void *, napi_async_work *);
extern napi_status napi_queue_async_work(napi_env, napi_async_work);
extern napi_status napi_delete_async_work(napi_env, napi_async_work);

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

__attribute__((visibility("default"))) napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  static int registered = 0;
  if (!registered) registered = register_ops() == 0 ? 1 : -1;
  napi_value value;
  if (registered == 1) napi_get_boolean(env, 1, &value);
  else napi_create_string_utf8(env, registration_error, strlen(registration_error), &value);
  napi_set_named_property(env, exports, "registered", value);
  napi_value warp;
  if (napi_create_function(env, "warpImages", 10, warp_images, NULL, &warp) == napi_ok) napi_set_named_property(env, exports, "warpImages", warp);
  if (napi_create_function(env, "warpImagesAsync", 15, warp_images_async, NULL, &warp) == napi_ok) napi_set_named_property(env, exports, "warpImagesAsync", warp);
  const char *warp_path = avx512_warp_available() ? "avx512" : "portable";
  napi_value path;
  if (napi_create_string_utf8(env, warp_path, strlen(warp_path), &path) == napi_ok) napi_set_named_property(env, exports, "warpInstructions", path);
  return exports;
}
