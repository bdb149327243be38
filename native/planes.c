/*
 * Byte planes (src/repo/codec/planes.ts) in C: element i of a little-endian array of `width`-byte
 * numbers contributes its byte b to plane b at position i, optionally XORed with a second array.
 *
 * The WebAssembly kernel works on chunks copied into its memory and out again; a restore spent
 * more on those copies than on the kernel. These loops read the planes where they are (a raw
 * plane straight from the decrypted blob) and write the elements in place: one pass. They are
 * plain byte loops, which the compiler vectorizes (-O3).
 *
 *   split(src, xor, plane0, plane1[, plane2, plane3])  planes[b][i] = src[i*w + b] ^ xor[i*w + b]
 *   merge(dst, xor, plane0, plane1[, plane2, plane3])  dst[i*w + b] = planes[b][i] ^ xor[i*w + b]
 *
 * w is the number of planes given (2 or 4); i runs over the whole elements of src (dst); xor is
 * a Uint8Array at least that long, or null. The bytes of a trailing partial element are left alone.
 */
#include <stdint.h>

#include "addon.h"

typedef const uint8_t *restrict in_t;
typedef uint8_t *restrict out_t;

static void split2(in_t s, in_t x, out_t p0, out_t p1, size_t n) {
  if (x)
    for (size_t i = 0; i < n; i++) p0[i] = s[2 * i] ^ x[2 * i], p1[i] = s[2 * i + 1] ^ x[2 * i + 1];
  else
    for (size_t i = 0; i < n; i++) p0[i] = s[2 * i], p1[i] = s[2 * i + 1];
}

static void split4(in_t s, in_t x, out_t p0, out_t p1, out_t p2, out_t p3, size_t n) {
  if (x)
    for (size_t i = 0; i < n; i++)
      p0[i] = s[4 * i] ^ x[4 * i], p1[i] = s[4 * i + 1] ^ x[4 * i + 1], p2[i] = s[4 * i + 2] ^ x[4 * i + 2], p3[i] = s[4 * i + 3] ^ x[4 * i + 3];
  else
    for (size_t i = 0; i < n; i++) p0[i] = s[4 * i], p1[i] = s[4 * i + 1], p2[i] = s[4 * i + 2], p3[i] = s[4 * i + 3];
}

static void merge2(in_t p0, in_t p1, in_t x, out_t d, size_t n) {
  if (x)
    for (size_t i = 0; i < n; i++) d[2 * i] = p0[i] ^ x[2 * i], d[2 * i + 1] = p1[i] ^ x[2 * i + 1];
  else
    for (size_t i = 0; i < n; i++) d[2 * i] = p0[i], d[2 * i + 1] = p1[i];
}

static void merge4(in_t p0, in_t p1, in_t p2, in_t p3, in_t x, out_t d, size_t n) {
  if (x)
    for (size_t i = 0; i < n; i++)
      d[4 * i] = p0[i] ^ x[4 * i], d[4 * i + 1] = p1[i] ^ x[4 * i + 1], d[4 * i + 2] = p2[i] ^ x[4 * i + 2], d[4 * i + 3] = p3[i] ^ x[4 * i + 3];
  else
    for (size_t i = 0; i < n; i++) d[4 * i] = p0[i], d[4 * i + 1] = p1[i], d[4 * i + 2] = p2[i], d[4 * i + 3] = p3[i];
}

/* The arguments of split and merge, checked: the elements, the XOR operand (data NULL if none) and the planes. */
typedef struct {
  bytes elements, xor, planes[4];
  size_t width, n;
} plane_args;

static bool get_plane_args(napi_env env, napi_callback_info info, plane_args *a) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 4 && argc != 6) {
    napi_throw_type_error(env, NULL, "expected the elements, the XOR operand or null, and 2 or 4 planes");
    return false;
  }
  a->width = argc - 2;
  a->xor = (bytes){NULL, 0};
  napi_valuetype xor_type;
  napi_typeof(env, argv[1], &xor_type);
  if (!get_bytes(env, argv[0], &a->elements) || (xor_type != napi_null && xor_type != napi_undefined && !get_bytes(env, argv[1], &a->xor))) return false;
  a->n = a->elements.length / a->width;
  if (a->xor.data && a->xor.length < a->n * a->width) {
    napi_throw_range_error(env, NULL, "the XOR operand is shorter than the elements");
    return false;
  }
  for (size_t b = 0; b < a->width; b++) {
    if (!get_bytes(env, argv[2 + b], &a->planes[b])) return false;
    if (a->planes[b].length < a->n) {
      napi_throw_range_error(env, NULL, "a plane is shorter than the number of elements");
      return false;
    }
  }
  return true;
}

napi_value split_planes(napi_env env, napi_callback_info info) {
  plane_args a;
  if (!get_plane_args(env, info, &a)) return NULL;
  if (a.width == 2)
    split2(a.elements.data, a.xor.data, a.planes[0].data, a.planes[1].data, a.n);
  else
    split4(a.elements.data, a.xor.data, a.planes[0].data, a.planes[1].data, a.planes[2].data, a.planes[3].data, a.n);
  return NULL;
}

napi_value merge_planes(napi_env env, napi_callback_info info) {
  plane_args a;
  if (!get_plane_args(env, info, &a)) return NULL;
  if (a.width == 2)
    merge2(a.planes[0].data, a.planes[1].data, a.xor.data, a.elements.data, a.n);
  else
    merge4(a.planes[0].data, a.planes[1].data, a.planes[2].data, a.planes[3].data, a.xor.data, a.elements.data, a.n);
  return NULL;
}
