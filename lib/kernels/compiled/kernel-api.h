/*
 * What the .c files of lib/kernels/compiled share (they make one library): the declarations of
 * TensorFlow's C kernel API and of N-API, the threads an op splits its work over, and each file's
 * entry point, called once by module.c when Node loads the library. The library is compiled with
 * hidden visibility: these names do not meet those of node or libtensorflow.
 */
#ifndef ANALYSE_IMAGE_KERNEL_API_H
#define ANALYSE_IMAGE_KERNEL_API_H
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>

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
enum { TF_FLOAT = 1, TF_INT32 = 3, TF_UINT8 = 4 };
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

#define MAX_THREADS 64

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(ANALYSE_IMAGE_NO_CLONES)
/* One compiled copy per instruction set, chosen when the library loads. */
#define VECTORISED __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VECTORISED
#endif

/** CPUs this process may run on (a Slurm job's or a sandbox's share, not the machine's). */
int thread_count(void);

/** work(arg, begin, end, slot) over [0, count) in `threads` chunks, the caller's thread taking the first. */
void parallel_for(int64_t count, int threads, void (*work)(void *, int64_t, int64_t, int), void *arg);

/** A kernel's construction and deletion when it keeps no state. */
void *no_state(TF_OpKernelConstruction *construction);
void no_delete(void *state);

/** Fails the op with `message` (code TF_OK: with the message already in `status`); returns 0. */
int fail(TF_OpKernelContext *ctx, TF_Status *status, TF_Code code, const char *message);

/** conv-pool-relu.c's ops and kernels, registered into `status` (left as is when it already failed). */
void register_conv_pool_relu(TF_Status *status);

/* N-API's C functions (a stable ABI, exported by node itself): no Node header is needed. */
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

/** warp.c's functions, set on the library's exports. */
void export_warp(napi_env env, napi_value exports);

#endif
