/*
 * AES-256-GCM over caller-owned memory, for the repository's seal/open (src/repo/crypto.ts).
 *
 * Node's Cipher returns a new buffer for every update(); decrypting a restore's 470 MB that way
 * cost 0.42 s of worker CPU (allocations, a copy into place, the collector), OpenSSL's own work
 * 0.1 s of it. These two calls run OpenSSL's EVP interface, which Node exports to addons, once per
 * blob, straight into the output buffer. Nothing is allocated but the cipher context.
 *
 *   open(key, nonce, aad, ciphertext, tag, out) -> boolean   (false: authentication failed; out is garbage)
 *   seal(key, nonce, aad, plaintext, out, tag)  -> undefined (out gets the ciphertext, tag the 16-byte tag)
 *
 * Every argument is a Uint8Array; key 32 bytes, nonce 12, tag 16, out at least as long as the input.
 */
#include <openssl/evp.h>

#include "addon.h"

/* The six Uint8Array arguments: key, nonce, aad, input, then `out` and `tag` (in the order given). */
static bool get_args(napi_env env, napi_callback_info info, bytes *key, bytes *nonce, bytes *aad, bytes *in, bytes *third, bytes *fourth) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 6) {
    napi_throw_type_error(env, NULL, "expected six Uint8Arrays");
    return false;
  }
  return get_bytes(env, argv[0], key) && get_bytes(env, argv[1], nonce) && get_bytes(env, argv[2], aad) && get_bytes(env, argv[3], in) &&
         get_bytes(env, argv[4], third) && get_bytes(env, argv[5], fourth);
}

static bool check_sizes(napi_env env, bytes key, bytes nonce, bytes tag, bytes in, bytes out) {
  if (key.length != 32 || nonce.length != 12 || tag.length != 16 || out.length < in.length || in.length > 0x7fffffff) {
    napi_throw_range_error(env, NULL, "AES-256-GCM needs a 32-byte key, a 12-byte nonce, a 16-byte tag and room for the output");
    return false;
  }
  return true;
}

napi_value open_gcm(napi_env env, napi_callback_info info) {
  bytes key, nonce, aad, in, tag, out;
  if (!get_args(env, info, &key, &nonce, &aad, &in, &tag, &out) || !check_sizes(env, key, nonce, tag, in, out)) return NULL;
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  bool ok = ctx != NULL && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key.data, nonce.data) == 1 &&
            (aad.length == 0 || EVP_DecryptUpdate(ctx, NULL, &len, aad.data, (int)aad.length) == 1) &&
            (in.length == 0 || EVP_DecryptUpdate(ctx, out.data, &len, in.data, (int)in.length) == 1) &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag.data) == 1 &&
            EVP_DecryptFinal_ex(ctx, out.data + in.length, &len) == 1;
  EVP_CIPHER_CTX_free(ctx);
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}

napi_value seal_gcm(napi_env env, napi_callback_info info) {
  bytes key, nonce, aad, in, out, tag;
  if (!get_args(env, info, &key, &nonce, &aad, &in, &out, &tag) || !check_sizes(env, key, nonce, tag, in, out)) return NULL;
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  bool ok = ctx != NULL && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key.data, nonce.data) == 1 &&
            (aad.length == 0 || EVP_EncryptUpdate(ctx, NULL, &len, aad.data, (int)aad.length) == 1) &&
            (in.length == 0 || EVP_EncryptUpdate(ctx, out.data, &len, in.data, (int)in.length) == 1) &&
            EVP_EncryptFinal_ex(ctx, out.data + in.length, &len) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag.data) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) napi_throw_error(env, NULL, "AES-256-GCM encryption failed in OpenSSL");
  return NULL;
}
