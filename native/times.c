/* File times to the nanosecond. Node's utimes takes seconds as a double (steps of 238 ns today),
   and since Node 24 a Date's milliseconds can come out one less; a restore must give back the
   times the snapshot recorded, exactly. */
#define _GNU_SOURCE
#include "addon.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static napi_value throw_errno(napi_env env, const char *call, int err) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", call, strerror(err));
  napi_value code, text, error;
  const char *name = strerrorname_np(err);
  napi_create_string_utf8(env, name ? name : "EIO", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &error);
  napi_set_named_property(env, error, "code", code);
  napi_throw(env, error);
  return NULL;
}

/* setTimes(fd | path, seconds, nanoseconds, noFollow): atime and mtime both; noFollow sets a
   symlink's own times. Throws an Error whose code is the errno's name. */
napi_value set_times(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int64_t seconds;
  int32_t nanoseconds;
  bool no_follow = false;
  if (argc < 3 || napi_get_value_int64(env, argv[1], &seconds) != napi_ok || napi_get_value_int32(env, argv[2], &nanoseconds) != napi_ok ||
      nanoseconds < 0 || nanoseconds > 999999999) {
    napi_throw_type_error(env, NULL, "setTimes(fd | path, seconds, nanoseconds, noFollow)");
    return NULL;
  }
  if (argc > 3) napi_get_value_bool(env, argv[3], &no_follow);
  struct timespec times[2] = {{(time_t)seconds, nanoseconds}, {(time_t)seconds, nanoseconds}};
  napi_valuetype type;
  napi_typeof(env, argv[0], &type);
  if (type == napi_number) {
    int32_t fd;
    napi_get_value_int32(env, argv[0], &fd);
    if (futimens(fd, times) != 0) return throw_errno(env, "futimens", errno);
    return NULL;
  }
  size_t length;
  if (napi_get_value_string_utf8(env, argv[0], NULL, 0, &length) != napi_ok) {
    napi_throw_type_error(env, NULL, "setTimes: expected a file descriptor or a path");
    return NULL;
  }
  char *path = malloc(length + 1);
  if (!path) return throw_errno(env, "utimensat", ENOMEM);
  napi_get_value_string_utf8(env, argv[0], path, length + 1, &length);
  int rc = utimensat(AT_FDCWD, path, times, no_follow ? AT_SYMLINK_NOFOLLOW : 0);
  int err = errno;
  free(path);
  if (rc != 0) return throw_errno(env, "utimensat", err);
  return NULL;
}
