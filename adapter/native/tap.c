/*
 * tapvpn_tap: the kernel side of the pseudo network adapter.
 *
 * Opens a TAP device (IFF_TAP | IFF_NO_PI) on /dev/net/tun, non-blocking and
 * close-on-exec, and drives reads from libuv's poll: on each wake-up it reads
 * every ready frame (up to the batch limit) back to back into one slab that
 * JavaScript owns, records each length, and calls JavaScript once per batch.
 * JavaScript makes subarray views: no allocation per frame.
 *
 * Writes take an array of frames and write() each (a TAP accepts exactly one
 * frame per write). A frame the kernel refuses (EAGAIN, ENOBUFS, EINVAL) is a
 * drop, reported by count, never an exception: a NIC drops, it does not throw.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <uv.h>

#define CHECK(call)                                                     \
  do {                                                                  \
    if ((call) != napi_ok) {                                            \
      napi_throw_error(env, "ERR_TAPVPN_NAPI", "Node-API call failed: " #call); \
      return NULL;                                                      \
    }                                                                   \
  } while (0)

/* Throws an Error with .code = errno name and .syscall, like Node's own errors. */
static napi_value throw_errno(napi_env env, int err, const char *syscall, const char *detail) {
  char message[256];
  snprintf(message, sizeof message, "%s failed: %s%s%s", syscall, strerror(err), detail ? ": " : "", detail ? detail : "");
  napi_value msg, error, code, sc, num;
  const char *name = err == ENOENT ? "ENOENT" : err == EPERM ? "EPERM" : err == EACCES ? "EACCES"
                   : err == EBUSY ? "EBUSY" : err == EINVAL ? "EINVAL" : err == ENODEV ? "ENODEV"
                   : err == EBADF ? "EBADF" : "EIO";
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, NULL, msg, &error);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc);
  napi_create_int32(env, err, &num);
  napi_set_named_property(env, error, "code", code);
  napi_set_named_property(env, error, "syscall", sc);
  napi_set_named_property(env, error, "errno", num);
  napi_throw(env, error);
  return NULL;
}

/* open(name: string) -> { fd: number, name: string } */
static napi_value tap_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IFNAMSIZ] = {0};
  size_t name_len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &name_len) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "open(name): name must be a string");
    return NULL;
  }
  if (name_len >= IFNAMSIZ - 1) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "open(name): interface names have at most 15 bytes");
    return NULL;
  }
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, errno, "open", "/dev/net/tun");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  memcpy(ifr.ifr_name, name, name_len); /* empty: the kernel picks tap%d */
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "ioctl(TUNSETIFF)", name_len ? name : "tap%d");
  }
  napi_value result, js_fd, js_name;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_int32(env, fd, &js_fd));
  CHECK(napi_create_string_utf8(env, ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ), &js_name));
  CHECK(napi_set_named_property(env, result, "fd", js_fd));
  CHECK(napi_set_named_property(env, result, "name", js_name));
  return result;
}

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_ref slab_ref;
  napi_ref lengths_ref;
  napi_async_context async_context;
  uint8_t *slab;
  size_t slab_size;
  uint32_t *lengths;
  size_t max_batch;
  size_t max_frame;
  int fd;
  int stopped;
} reader_t;

static void reader_closed(uv_handle_t *handle) {
  reader_t *reader = (reader_t *)handle->data;
  napi_env env = reader->env;
  napi_delete_reference(env, reader->callback);
  napi_delete_reference(env, reader->slab_ref);
  napi_delete_reference(env, reader->lengths_ref);
  napi_async_destroy(env, reader->async_context);
  free(reader);
}

/* Reads every ready frame (bounded by the batch and the slab) and hands the batch to JS. */
static void on_readable(uv_poll_t *poll, int status, int events) {
  (void)events;
  reader_t *reader = (reader_t *)poll->data;
  if (reader->stopped) return;
  napi_env env = reader->env;
  size_t count = 0, offset = 0;
  int error = status < 0 ? -status : 0;
  while (!error && count < reader->max_batch && reader->slab_size - offset >= reader->max_frame) {
    ssize_t n = read(reader->fd, reader->slab + offset, reader->max_frame);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) error = errno;
      break;
    }
    if (n == 0) break;
    reader->lengths[count++] = (uint32_t)n;
    offset += (size_t)n;
  }
  if (count == 0 && !error) return;

  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value callback, global, argv[2], result;
  napi_get_reference_value(env, reader->callback, &callback);
  napi_get_global(env, &global);
  napi_create_uint32(env, (uint32_t)count, &argv[0]);
  if (error) {
    napi_value msg;
    napi_create_string_utf8(env, strerror(error), NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &argv[1]);
  } else {
    napi_get_undefined(env, &argv[1]);
  }
  napi_make_callback(env, reader->async_context, global, callback, 2, argv, &result);
  napi_close_handle_scope(env, scope);
}

/* startReading(fd, slab: Uint8Array, lengths: Uint32Array, maxFrame: number, callback(count, error)) -> handle */
static napi_value tap_start_reading(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "startReading(fd, slab, lengths, maxFrame, callback)");
    return NULL;
  }
  int32_t fd, max_frame;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_value_int32(env, argv[3], &max_frame));
  napi_typedarray_type slab_type, lengths_type;
  size_t slab_len, lengths_len;
  void *slab_data, *lengths_data;
  CHECK(napi_get_typedarray_info(env, argv[1], &slab_type, &slab_len, &slab_data, NULL, NULL));
  CHECK(napi_get_typedarray_info(env, argv[2], &lengths_type, &lengths_len, &lengths_data, NULL, NULL));
  if (slab_type != napi_uint8_array || lengths_type != napi_uint32_array || max_frame <= 0 ||
      (size_t)max_frame > slab_len || lengths_len == 0) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "startReading: need a Uint8Array slab >= maxFrame and a non-empty Uint32Array");
    return NULL;
  }
  reader_t *reader = calloc(1, sizeof *reader);
  if (!reader) return throw_errno(env, ENOMEM, "calloc", NULL);
  reader->env = env;
  reader->fd = fd;
  reader->slab = slab_data;
  reader->slab_size = slab_len;
  reader->lengths = lengths_data;
  reader->max_batch = lengths_len;
  reader->max_frame = (size_t)max_frame;
  napi_value resource_name;
  napi_create_string_utf8(env, "tapvpn:tap-read", NAPI_AUTO_LENGTH, &resource_name);
  napi_async_init(env, NULL, resource_name, &reader->async_context);
  napi_create_reference(env, argv[4], 1, &reader->callback);
  napi_create_reference(env, argv[1], 1, &reader->slab_ref);
  napi_create_reference(env, argv[2], 1, &reader->lengths_ref);

  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  int rc = uv_poll_init(loop, &reader->poll, fd);
  if (rc == 0) {
    reader->poll.data = reader;
    rc = uv_poll_start(&reader->poll, UV_READABLE, on_readable);
    if (rc != 0) {
      uv_close((uv_handle_t *)&reader->poll, reader_closed);
      return throw_errno(env, -rc, "uv_poll_start", NULL);
    }
  } else {
    napi_delete_reference(env, reader->callback);
    napi_delete_reference(env, reader->slab_ref);
    napi_delete_reference(env, reader->lengths_ref);
    napi_async_destroy(env, reader->async_context);
    free(reader);
    return throw_errno(env, -rc, "uv_poll_init", NULL);
  }
  napi_value handle;
  CHECK(napi_create_external(env, reader, NULL, NULL, &handle));
  return handle;
}

/* stopReading(handle): stops the poll; the reader is freed once libuv has closed it. Idempotent. */
static napi_value tap_stop_reading(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  reader_t *reader;
  if (argc < 1 || napi_get_value_external(env, argv[0], (void **)&reader) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "stopReading(handle)");
    return NULL;
  }
  if (!reader->stopped) {
    reader->stopped = 1;
    uv_poll_stop(&reader->poll);
    uv_close((uv_handle_t *)&reader->poll, reader_closed);
  }
  return NULL;
}

/* writeFrames(fd, frames: Uint8Array[]) -> number written; refused frames are drops. */
static napi_value tap_write_frames(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  uint32_t count;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_array_length(env, argv[1], &count) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "writeFrames(fd, frames[])");
    return NULL;
  }
  uint32_t written = 0;
  for (uint32_t i = 0; i < count; i++) {
    napi_value element;
    napi_typedarray_type type;
    size_t length;
    void *data;
    if (napi_get_element(env, argv[1], i, &element) != napi_ok ||
        napi_get_typedarray_info(env, element, &type, &length, &data, NULL, NULL) != napi_ok ||
        type != napi_uint8_array) {
      continue; /* not a frame: a drop */
    }
    ssize_t n;
    do n = write(fd, data, length); while (n < 0 && errno == EINTR);
    if (n == (ssize_t)length) written++;
    else if (n < 0 && errno == EBADF) return throw_errno(env, EBADF, "write", "the TAP device is closed");
  }
  napi_value result;
  CHECK(napi_create_uint32(env, written, &result));
  return result;
}

/* close(fd): closes the TAP file descriptor; the kernel removes a non-persistent device. */
static napi_value tap_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "close(fd)");
    return NULL;
  }
  if (close(fd) < 0 && errno != EINTR) return throw_errno(env, errno, "close", NULL);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, tap_open, NULL, NULL, NULL, napi_default, NULL},
      {"startReading", NULL, tap_start_reading, NULL, NULL, NULL, napi_default, NULL},
      {"stopReading", NULL, tap_stop_reading, NULL, NULL, NULL, napi_default, NULL},
      {"writeFrames", NULL, tap_write_frames, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, tap_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
