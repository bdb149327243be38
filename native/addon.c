/* The lifeboat_native addon: AES-256-GCM (gcm.c), byte planes (planes.c) and file times (times.c). */
#include "addon.h"

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"open", NULL, open_gcm, NULL, NULL, NULL, napi_default, NULL},
      {"seal", NULL, seal_gcm, NULL, NULL, NULL, napi_default, NULL},
      {"split", NULL, split_planes, NULL, NULL, NULL, napi_default, NULL},
      {"merge", NULL, merge_planes, NULL, NULL, NULL, napi_default, NULL},
      {"setTimes", NULL, set_times, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
