/*
 * tapvpn_aead: AES-256-GCM and ChaCha20-Poly1305 with one OpenSSL EVP
 * context per direction, reused for every frame (only the nonce changes).
 * node:crypto builds a new cipher object per frame for these AEADs; that
 * object was the largest single cost of sealing a 1400-byte DATA frame
 * (docs/PERFORMANCE.md). OpenSSL is the one inside Node: its headers ship
 * with Node's and its symbols are exported by the node binary.
 *
 * open() verifies before it returns true: OpenSSL decrypts into the caller's
 * buffer, and on a tag mismatch the buffer is zeroed and false returned, so
 * unverified plaintext never leaves as data.
 *
 * destroy() frees the context (OpenSSL cleanses its key schedule) as soon as
 * a key generation is replaced, instead of whenever the garbage collector
 * runs the finalizer; seal/open on a destroyed handle throw.
 */
#include <node_api.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TAG_LENGTH 16
#define NONCE_LENGTH 12
#define KEY_LENGTH 32

typedef struct {
  EVP_CIPHER_CTX *ctx;
  int encrypt;
} aead_t;

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  aead_t *aead = data;
  EVP_CIPHER_CTX_free(aead->ctx); /* NULL after destroy(): a no-op */
  OPENSSL_cleanse(aead, sizeof *aead);
  free(aead);
}

static int bytes(napi_env env, napi_value value, uint8_t **data, size_t *length) {
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, value, &type, length, (void **)data, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a Uint8Array");
    return 0;
  }
  return 1;
}

/* create(suite: 'aes-256-gcm' | 'chacha20-poly1305', key: Uint8Array(32), encrypt: boolean) -> handle */
static napi_value create(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char suite[32] = {0};
  size_t suite_length;
  uint8_t *key;
  size_t key_length;
  bool encrypt;
  if (argc < 3 || napi_get_value_string_utf8(env, argv[0], suite, sizeof suite, &suite_length) != napi_ok || !bytes(env, argv[1], &key, &key_length) ||
      napi_get_value_bool(env, argv[2], &encrypt) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "create(suite, key, encrypt)");
    return NULL;
  }
  const EVP_CIPHER *cipher = strcmp(suite, "aes-256-gcm") == 0 ? EVP_aes_256_gcm() : strcmp(suite, "chacha20-poly1305") == 0 ? EVP_chacha20_poly1305() : NULL;
  if (!cipher || key_length != KEY_LENGTH) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "create: unknown suite or key not 32 bytes");
    return NULL;
  }
  aead_t *aead = calloc(1, sizeof *aead);
  if (!aead || !(aead->ctx = EVP_CIPHER_CTX_new()) || EVP_CipherInit_ex(aead->ctx, cipher, NULL, NULL, NULL, encrypt) != 1 ||
      EVP_CIPHER_CTX_ctrl(aead->ctx, EVP_CTRL_AEAD_SET_IVLEN, NONCE_LENGTH, NULL) != 1 || EVP_CipherInit_ex(aead->ctx, NULL, NULL, key, NULL, encrypt) != 1) {
    if (aead) {
      EVP_CIPHER_CTX_free(aead->ctx);
      free(aead);
    }
    napi_throw_error(env, "ERR_TAPVPN_AEAD", "create: OpenSSL refused the cipher");
    return NULL;
  }
  aead->encrypt = encrypt;
  napi_value handle;
  napi_create_external(env, aead, finalize, NULL, &handle);
  return handle;
}

static aead_t *handle_of(napi_env env, napi_value value, int encrypt) {
  aead_t *aead;
  if (napi_get_value_external(env, value, (void **)&aead) != napi_ok || aead->encrypt != encrypt) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", encrypt ? "seal needs a sealing handle" : "open needs an opening handle");
    return NULL;
  }
  if (!aead->ctx) {
    napi_throw_error(env, "ERR_TAPVPN_AEAD_DESTROYED", "the AEAD context was destroyed (its key generation was replaced)");
    return NULL;
  }
  return aead;
}

/* destroy(handle): frees the context and its key schedule now. Idempotent. */
static napi_value destroy(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  aead_t *aead;
  if (argc < 1 || napi_get_value_external(env, argv[0], (void **)&aead) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "destroy(handle)");
    return NULL;
  }
  EVP_CIPHER_CTX_free(aead->ctx);
  aead->ctx = NULL;
  return NULL;
}

static int int_length(size_t length) {
  return length <= INT32_MAX;
}

/* seal(handle, nonce(12), aad, plaintext, ciphertextOut (>= plaintext), tagOut(16)) */
static napi_value seal(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 6) return napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "seal(handle, nonce, aad, plaintext, ciphertextOut, tagOut)"), NULL;
  aead_t *aead = handle_of(env, argv[0], 1);
  uint8_t *nonce, *aad, *in, *out, *tag;
  size_t nonce_length, aad_length, in_length, out_length, tag_length;
  if (!aead || !bytes(env, argv[1], &nonce, &nonce_length) || !bytes(env, argv[2], &aad, &aad_length) || !bytes(env, argv[3], &in, &in_length) ||
      !bytes(env, argv[4], &out, &out_length) || !bytes(env, argv[5], &tag, &tag_length))
    return NULL;
  if (nonce_length != NONCE_LENGTH || tag_length != TAG_LENGTH || out_length < in_length || !int_length(in_length) || !int_length(aad_length)) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "seal: nonce 12 bytes, tag 16 bytes, ciphertextOut at least as long as plaintext");
    return NULL;
  }
  int n;
  if (EVP_CipherInit_ex(aead->ctx, NULL, NULL, NULL, nonce, 1) != 1 || (aad_length && EVP_CipherUpdate(aead->ctx, NULL, &n, aad, (int)aad_length) != 1) ||
      (in_length && EVP_CipherUpdate(aead->ctx, out, &n, in, (int)in_length) != 1) || EVP_CipherFinal_ex(aead->ctx, out + in_length, &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(aead->ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LENGTH, tag) != 1) {
    napi_throw_error(env, "ERR_TAPVPN_AEAD", "seal: OpenSSL failed");
  }
  return NULL;
}

/* open(handle, nonce(12), aad, ciphertext, tag(16), plaintextOut (>= ciphertext)) -> boolean */
static napi_value open_(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 6) return napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "open(handle, nonce, aad, ciphertext, tag, plaintextOut)"), NULL;
  aead_t *aead = handle_of(env, argv[0], 0);
  uint8_t *nonce, *aad, *in, *tag, *out;
  size_t nonce_length, aad_length, in_length, tag_length, out_length;
  if (!aead || !bytes(env, argv[1], &nonce, &nonce_length) || !bytes(env, argv[2], &aad, &aad_length) || !bytes(env, argv[3], &in, &in_length) ||
      !bytes(env, argv[4], &tag, &tag_length) || !bytes(env, argv[5], &out, &out_length))
    return NULL;
  napi_value result;
  if (nonce_length != NONCE_LENGTH || tag_length != TAG_LENGTH || out_length < in_length || !int_length(in_length) || !int_length(aad_length)) {
    napi_get_boolean(env, false, &result);
    return result;
  }
  int n;
  int ok = EVP_CipherInit_ex(aead->ctx, NULL, NULL, NULL, nonce, 0) == 1 && (!aad_length || EVP_CipherUpdate(aead->ctx, NULL, &n, aad, (int)aad_length) == 1) &&
           (!in_length || EVP_CipherUpdate(aead->ctx, out, &n, in, (int)in_length) == 1) && EVP_CIPHER_CTX_ctrl(aead->ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LENGTH, tag) == 1 &&
           EVP_CipherFinal_ex(aead->ctx, out + in_length, &n) == 1;
  if (!ok) OPENSSL_cleanse(out, in_length); /* unverified plaintext never leaves */
  napi_get_boolean(env, ok, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"create", NULL, create, NULL, NULL, NULL, napi_default, NULL},
      {"seal", NULL, seal, NULL, NULL, NULL, napi_default, NULL},
      {"open", NULL, open_, NULL, NULL, NULL, napi_default, NULL},
      {"destroy", NULL, destroy, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
