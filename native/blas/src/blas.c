/*
 * fleximodal_blas: a Node-API addon that runs single-precision matrix products of the
 * tfjs-backend-wasm engine through a system BLAS (OpenBLAS, BLIS, MKL) found at run time.
 *
 * The BLAS library is opened with dlopen and `cblas_sgemm` is looked up with dlsym, so building
 * this addon needs neither BLAS headers nor a BLAS library. Operands are read and the product is
 * written in place on the wasm heap: the caller passes a typed array over the whole heap and byte
 * offsets into it (no copies).
 *
 * exports:
 *   open(path, threads)  -> { ok, error, path, core, config }   (one library per process)
 *   setThreads(n)        -> bool (false when the library has no thread setter)
 *   gemm(heap, m, n, k, transA, transB, offsets)               -> undefined
 *       offsets: Uint32Array [aByte0, bByte0, cByte0, aByte1, ...] — one row-major product
 *       C_i[m,n] = op(A_i)·op(B_i) per triple (op = transpose when the flag is set).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float,
                         float *, int);
typedef void (*set_threads_fn)(int);
typedef char *(*get_string_fn)(void);

static void *lib = NULL;
static sgemm_fn sgemm = NULL;
static set_threads_fn set_threads = NULL;
static char lib_path[1024];

#define CHECK(call)                                                                                      \
  do {                                                                                                   \
    if ((call) != napi_ok) {                                                                             \
      napi_throw_error(env, NULL, "fleximodal_blas: N-API call failed: " #call);                       \
      return NULL;                                                                                       \
    }                                                                                                    \
  } while (0)

static napi_value str(napi_env env, const char *s) {
  napi_value v;
  if (s == NULL) {
    napi_get_null(env, &v);
  } else {
    napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  }
  return v;
}

static void set_prop(napi_env env, napi_value obj, const char *key, napi_value v) {
  napi_set_named_property(env, obj, key, v);
}

static napi_value open_library(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char path[1024];
  size_t len = 0;
  CHECK(napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len));
  int32_t threads = 1;
  if (argc > 1) napi_get_value_int32(env, argv[1], &threads);

  napi_value res;
  CHECK(napi_create_object(env, &res));
  napi_value t, f;
  napi_get_boolean(env, 1, &t);
  napi_get_boolean(env, 0, &f);
  if (lib != NULL) {
    if (strcmp(path, lib_path) != 0) {
      char msg[2200];
      snprintf(msg, sizeof msg, "a BLAS library is already open in this process (%s)", lib_path);
      set_prop(env, res, "ok", f);
      set_prop(env, res, "error", str(env, msg));
      return res;
    }
  } else {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
      const char *e = dlerror();
      set_prop(env, res, "ok", f);
      set_prop(env, res, "error", str(env, e ? e : "dlopen failed"));
      return res;
    }
    sgemm_fn g = (sgemm_fn)dlsym(h, "cblas_sgemm");
    if (g == NULL) {
      dlclose(h);
      set_prop(env, res, "ok", f);
      set_prop(env, res, "error", str(env, "the library has no cblas_sgemm"));
      return res;
    }
    lib = h;
    sgemm = g;
    snprintf(lib_path, sizeof lib_path, "%s", path);
    const char *setters[] = {"openblas_set_num_threads", "bli_thread_set_num_threads", "MKL_Set_Num_Threads",
                             "goto_set_num_threads"};
    for (size_t i = 0; i < sizeof setters / sizeof *setters && set_threads == NULL; i++) {
      set_threads = (set_threads_fn)dlsym(h, setters[i]);
    }
  }
  if (set_threads != NULL && threads > 0) set_threads(threads);
  get_string_fn corename = (get_string_fn)dlsym(lib, "openblas_get_corename");
  get_string_fn config = (get_string_fn)dlsym(lib, "openblas_get_config");
  set_prop(env, res, "ok", t);
  set_prop(env, res, "error", str(env, NULL));
  set_prop(env, res, "path", str(env, lib_path));
  set_prop(env, res, "core", str(env, corename ? corename() : NULL));
  set_prop(env, res, "config", str(env, config ? config() : NULL));
  napi_value has;
  napi_get_boolean(env, set_threads != NULL, &has);
  set_prop(env, res, "threadSetter", has);
  return res;
}

static napi_value set_thread_count(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t n = 1;
  CHECK(napi_get_value_int32(env, argv[0], &n));
  if (set_threads != NULL && n > 0) set_threads(n);
  napi_value r;
  napi_get_boolean(env, set_threads != NULL, &r);
  return r;
}

static napi_value gemm(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 7) {
    napi_throw_type_error(env, NULL, "gemm(heap, m, n, k, transA, transB, offsets)");
    return NULL;
  }
  if (sgemm == NULL) {
    napi_throw_error(env, NULL, "fleximodal_blas: no BLAS library is open");
    return NULL;
  }
  napi_typedarray_type type;
  size_t heap_len = 0, off_len = 0, unused;
  void *heap = NULL, *offs = NULL;
  napi_value ab;
  CHECK(napi_get_typedarray_info(env, argv[0], &type, &heap_len, &heap, &ab, &unused));
  if (type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "gemm: heap must be a Uint8Array");
    return NULL;
  }
  int32_t m, n, k;
  bool ta, tb;
  CHECK(napi_get_value_int32(env, argv[1], &m));
  CHECK(napi_get_value_int32(env, argv[2], &n));
  CHECK(napi_get_value_int32(env, argv[3], &k));
  CHECK(napi_get_value_bool(env, argv[4], &ta));
  CHECK(napi_get_value_bool(env, argv[5], &tb));
  CHECK(napi_get_typedarray_info(env, argv[6], &type, &off_len, &offs, &ab, &unused));
  if (type != napi_uint32_array || off_len % 3 != 0) {
    napi_throw_type_error(env, NULL, "gemm: offsets must be a Uint32Array of (a, b, c) byte-offset triples");
    return NULL;
  }
  if (m <= 0 || n <= 0 || k <= 0) return NULL;
  const uint32_t *o = (const uint32_t *)offs;
  const uint64_t a_bytes = (uint64_t)m * k * 4, b_bytes = (uint64_t)k * n * 4, c_bytes = (uint64_t)m * n * 4;
  for (size_t i = 0; i < off_len; i += 3) {
    if (o[i] + a_bytes > heap_len || o[i + 1] + b_bytes > heap_len || o[i + 2] + c_bytes > heap_len ||
        (o[i] | o[i + 1] | o[i + 2]) % 4 != 0) {
      napi_throw_range_error(env, NULL, "gemm: operand outside the heap or misaligned");
      return NULL;
    }
  }
  uint8_t *base = (uint8_t *)heap;
  const int lda = ta ? m : k, ldb = tb ? k : n;
  for (size_t i = 0; i < off_len; i += 3) {
    sgemm(ROW_MAJOR, ta ? TRANS : NO_TRANS, tb ? TRANS : NO_TRANS, m, n, k, 1.0f, (const float *)(base + o[i]), lda,
          (const float *)(base + o[i + 1]), ldb, 0.0f, (float *)(base + o[i + 2]), n);
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, open_library, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, set_thread_count, NULL, NULL, NULL, napi_default, NULL},
      {"gemm", NULL, gemm, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof *props, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
