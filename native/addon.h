/* What the addon's parts share: reading Uint8Array arguments, and each part's entry points. */
#ifndef LIFEBOAT_ADDON_H
#define LIFEBOAT_ADDON_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
  unsigned char *data;
  size_t length;
} bytes;

/* The Uint8Array `value`'s memory; false (with a TypeError thrown) for anything else. */
static inline bool get_bytes(napi_env env, napi_value value, bytes *out) {
  napi_typedarray_type type;
  size_t length;
  void *data;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, &length, &data, &buffer, &offset) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "expected a Uint8Array");
    return false;
  }
  out->data = data;
  out->length = length;
  return true;
}

/* gcm.c */
napi_value open_gcm(napi_env env, napi_callback_info info);
napi_value seal_gcm(napi_env env, napi_callback_info info);

/* planes.c */
napi_value split_planes(napi_env env, napi_callback_info info);
napi_value merge_planes(napi_env env, napi_callback_info info);

/* times.c */
napi_value set_times(napi_env env, napi_callback_info info);

#endif
