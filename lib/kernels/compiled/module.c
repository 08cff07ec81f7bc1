/*
 * Node loads this library with process.dlopen, which calls N-API's module entry point: the ops of
 * every file are registered there, once, and `registered` (true, or TensorFlow's message) is set on
 * the exports beside warp.c's functions.
 */
#include "kernel-api.h"
#include <stdio.h>
#include <string.h>

__attribute__((visibility("default"))) napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  static int registered = 0;
  static char registration_error[512];
  if (!registered) {
    TF_Status *status = TF_NewStatus();
    register_conv_pool_relu(status);
    registered = TF_GetCode(status) == TF_OK ? 1 : -1;
    if (registered != 1) snprintf(registration_error, sizeof registration_error, "%s", TF_Message(status));
    TF_DeleteStatus(status);
  }
  napi_value value;
  if (registered == 1) napi_get_boolean(env, 1, &value);
  else napi_create_string_utf8(env, registration_error, strlen(registration_error), &value);
  napi_set_named_property(env, exports, "registered", value);
  export_warp(env, exports);
  return exports;
}
