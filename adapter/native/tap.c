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
 *
 * Offload (open with vnetHdr): the device is opened with IFF_VNET_HDR, a
 * 10-byte struct virtio_net_hdr in front of every frame each way, and
 * TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN): the
 * host's stack then hands us TCP super-frames (GSO, up to 64 KiB) and takes
 * them back whole. The header never reaches JavaScript as bytes: a read fills
 * six u16 per frame (flags, gso_type, hdr_len, gso_size, csum_start,
 * csum_offset) in a parallel array for a GSO frame, and completes a partial
 * checksum (VIRTIO_NET_HDR_F_NEEDS_CSUM) of a plain frame in place, so every
 * plain frame JavaScript sees is checksum-complete; a write takes the same six
 * u16 per frame (zeros: a plain frame) and writev()s header and frame.
 *
 * Reads can be paused and resumed (the poll leaves epoll): while paused the
 * kernel holds arriving frames in the device's ring (txqueuelen frames) and
 * drops beyond it, which is how back-pressure from a slow carrier reaches the
 * host's TCP senders. setSocketOption sets the few TCP carrier options Node
 * does not expose (TCP_NOTSENT_LOWAT, SO_SNDBUF, SO_RCVBUF) on a socket fd.
 *
 * Two calls for the privilege drop (src/util/privileges.ts), which Node has
 * no API for: bindTcp binds a listening port without listen(), so a port
 * below 1024 is taken while privileged but nothing is accepted until the
 * listen after the drop; dropBoundingSet and clearCapabilities empty the
 * calling thread's capability sets around the setuid (see there).
 *
 * Guarantees: a read never goes past the slab (each read is offered at most
 * maxFrame bytes and only while that much room is left); EINTR is retried;
 * a read error other than EAGAIN (the device was deleted under us) stops the
 * poll and is reported once; the poll is stopped (and so removed from epoll)
 * before JavaScript closes the fd.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdbool.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <linux/virtio_net.h>
#include <unistd.h>
#include <uv.h>

#define ETHER_ADDR_LEN_BYTES 6
#define NAME_BUFFER_BYTES 64
#define VNET_HDR_BYTES ((int)sizeof(struct virtio_net_hdr)) /* 10: no num_buffers */
#define META_STRIDE 6 /* u16 per frame: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset */
#define TAP_OFFLOADS (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN) /* larger than IFNAMSIZ so an over-long name is seen, not truncated */

#define CHECK(call)                                                              \
  do {                                                                           \
    if ((call) != napi_ok) {                                                     \
      napi_throw_error(env, "ERR_TAPVPN_NAPI", "Node-API call failed: " #call);  \
      return NULL;                                                               \
    }                                                                            \
  } while (0)

/* An Error with .code = the errno name (ENOENT ...), .syscall and .errno, like Node's own. */
static napi_value errno_error(napi_env env, int err, const char *syscall, const char *detail) {
  char message[256];
  snprintf(message, sizeof message, "%s failed: %s%s%s", syscall, strerror(err), detail ? ": " : "",
           detail ? detail : "");
  napi_value msg, error, code, sc, num;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, NULL, msg, &error);
  napi_create_string_utf8(env, uv_err_name(-err), NAPI_AUTO_LENGTH, &code); /* libuv errors are -errno on Unix */
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc);
  napi_create_int32(env, err, &num);
  napi_set_named_property(env, error, "code", code);
  napi_set_named_property(env, error, "syscall", sc);
  napi_set_named_property(env, error, "errno", num);
  return error;
}

static napi_value throw_errno(napi_env env, int err, const char *syscall, const char *detail) {
  napi_throw(env, errno_error(env, err, syscall, detail));
  return NULL;
}

static int get_fd(napi_env env, napi_value value, int32_t *fd) {
  return napi_get_value_int32(env, value, fd) == napi_ok && *fd >= 0;
}

/* Turns on the virtio-net header and the offloads; 0 or an errno (the caller closes the fd). */
static int enable_offload(int fd, const char **syscall) {
  int header_bytes = VNET_HDR_BYTES;
  *syscall = "ioctl(TUNSETVNETHDRSZ)";
  if (ioctl(fd, TUNSETVNETHDRSZ, &header_bytes) < 0) return errno;
  *syscall = "ioctl(TUNSETOFFLOAD)";
  if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)TAP_OFFLOADS) < 0) return errno;
  return 0;
}

/* open(name: string, vnetHdr?: boolean) -> { fd: number, name: string }; "" or a "%d" pattern lets the kernel number it. */
static napi_value tap_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[NAME_BUFFER_BYTES] = {0};
  size_t name_len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &name_len) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "open(name): name must be a string");
    return NULL;
  }
  if (name_len > IFNAMSIZ - 1) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "open(name): interface names have at most 15 bytes");
    return NULL;
  }
  bool vnet_hdr = false;
  if (argc >= 2) napi_get_value_bool(env, argv[1], &vnet_hdr); /* not a boolean: false */
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, errno, "open", "/dev/net/tun");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0);
  memcpy(ifr.ifr_name, name, name_len); /* fits: name_len <= IFNAMSIZ - 1, and ifr is zeroed */
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "ioctl(TUNSETIFF)", name_len ? name : "tap%d");
  }
  const char *syscall = NULL;
  int offload_error = vnet_hdr ? enable_offload(fd, &syscall) : 0;
  if (offload_error) {
    close(fd);
    return throw_errno(env, offload_error, syscall, ifr.ifr_name);
  }
  napi_value result, js_fd, js_name;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_int32(env, fd, &js_fd));
  CHECK(napi_create_string_utf8(env, ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ), &js_name));
  CHECK(napi_set_named_property(env, result, "fd", js_fd));
  CHECK(napi_set_named_property(env, result, "name", js_name));
  return result;
}

/* getMac(fd) -> Uint8Array(6): the device's MAC, asked of the TAP fd, so it works in any namespace. */
static napi_value tap_get_mac(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  if (argc < 1 || !get_fd(env, argv[0], &fd)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "getMac(fd)");
    return NULL;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) return throw_errno(env, errno, "ioctl(SIOCGIFHWADDR)", NULL);
  void *data;
  napi_value buffer, result;
  CHECK(napi_create_arraybuffer(env, ETHER_ADDR_LEN_BYTES, &data, &buffer));
  memcpy(data, ifr.ifr_hwaddr.sa_data, ETHER_ADDR_LEN_BYTES);
  CHECK(napi_create_typedarray(env, napi_uint8_array, ETHER_ADDR_LEN_BYTES, buffer, 0, &result));
  return result;
}

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_ref slab_ref; /* keeps the slab (and so `slab`) alive while libuv may still call us */
  napi_ref lengths_ref;
  napi_async_context async_context;
  uint8_t *slab;
  size_t slab_size;
  uint32_t *lengths;
  uint16_t *meta; /* NULL: no virtio-net header; else META_STRIDE u16 per frame of the batch */
  napi_ref meta_ref;
  size_t max_batch;
  size_t max_frame;
  int fd;
  int stopped; /* no more reads: stopReading was called or a fatal error was reported */
  int paused;  /* setReading(false): out of epoll until setReading(true) */
  int closing; /* uv_close was called; reader_closed frees the reader */
} reader_t;

static void reader_release(reader_t *reader) {
  napi_env env = reader->env;
  napi_delete_reference(env, reader->callback);
  napi_delete_reference(env, reader->slab_ref);
  napi_delete_reference(env, reader->lengths_ref);
  if (reader->meta_ref) napi_delete_reference(env, reader->meta_ref);
  napi_async_destroy(env, reader->async_context);
  free(reader);
}

static void reader_closed(uv_handle_t *handle) { reader_release((reader_t *)handle->data); }

/* callback(...argv) in its async context; an exception it throws becomes an uncaughtException, not a lost one. */
static void call_back(napi_env env, napi_ref callback_ref, napi_async_context context, size_t argc, napi_value *argv) {
  napi_value callback, global, result;
  napi_get_reference_value(env, callback_ref, &callback);
  napi_get_global(env, &global);
  if (napi_make_callback(env, context, global, callback, argc, argv, &result) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value exception;
      napi_get_and_clear_last_exception(env, &exception);
      napi_fatal_exception(env, exception);
    }
  }
}

/* Calls callback(count, error|undefined). */
static void deliver(reader_t *reader, size_t count, int error, const char *syscall) {
  napi_env env = reader->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value argv[2];
  napi_create_uint32(env, (uint32_t)count, &argv[0]);
  if (error) argv[1] = errno_error(env, error, syscall, "reading the TAP device");
  else napi_get_undefined(env, &argv[1]);
  call_back(env, reader->callback, reader->async_context, 2, argv);
  napi_close_handle_scope(env, scope);
}

/* RFC 1071 sum of bytes[0..length) as big-endian words, not yet folded. */
static uint64_t ones_complement_sum(const uint8_t *bytes, size_t length) {
  uint64_t sum = 0;
  size_t i = 0;
  for (; i + 1 < length; i += 2) sum += (uint32_t)(bytes[i] << 8 | bytes[i + 1]);
  if (i < length) sum += (uint32_t)bytes[i] << 8;
  return sum;
}

/*
 * VIRTIO_NET_HDR_F_NEEDS_CSUM on a plain frame: the field at csum_start +
 * csum_offset holds the pseudo-header sum; sum from csum_start to the end and
 * store the folded complement, as skb_checksum_help does (0 goes out as 0xffff).
 * A header pointing outside the frame leaves the frame alone (the receiver drops it).
 */
static void complete_checksum(uint8_t *frame, size_t length, const struct virtio_net_hdr *hdr) {
  size_t start = hdr->csum_start, field = start + hdr->csum_offset;
  if (start >= length || field + 2 > length) return;
  uint64_t sum = ones_complement_sum(frame + start, length - start);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  uint16_t checksum = (uint16_t)~sum;
  if (checksum == 0) checksum = 0xffff;
  frame[field] = (uint8_t)(checksum >> 8);
  frame[field + 1] = (uint8_t)checksum;
}

/* One read; with the virtio-net header, split it off into the frame's meta slot (or finish a partial checksum). */
static ssize_t read_frame(reader_t *reader, uint8_t *into, size_t index) {
  if (!reader->meta) return read(reader->fd, into, reader->max_frame);
  struct virtio_net_hdr hdr;
  struct iovec iov[2] = {{&hdr, VNET_HDR_BYTES}, {into, reader->max_frame}};
  ssize_t n = readv(reader->fd, iov, 2);
  if (n < 0) return n;
  if (n < VNET_HDR_BYTES) return 0; /* cannot happen for a TAP; "nothing ready" */
  n -= VNET_HDR_BYTES;
  uint16_t *meta = reader->meta + index * META_STRIDE;
  if (hdr.gso_type == VIRTIO_NET_HDR_GSO_NONE) {
    if (hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) complete_checksum(into, (size_t)n, &hdr);
    memset(meta, 0, META_STRIDE * sizeof *meta);
  } else {
    meta[0] = hdr.flags, meta[1] = hdr.gso_type, meta[2] = hdr.hdr_len;
    meta[3] = hdr.gso_size, meta[4] = hdr.csum_start, meta[5] = hdr.csum_offset;
  }
  return n;
}

/* Reads every ready frame (bounded by the batch and the slab) and hands the batch to JS. */
static void on_readable(uv_poll_t *poll, int status, int events) {
  (void)events;
  reader_t *reader = (reader_t *)poll->data;
  if (reader->stopped) return;
  size_t count = 0, offset = 0;
  int error = status < 0 ? -status : 0;
  const char *syscall = "uv_poll";
  /* Room check first: a read is offered max_frame bytes, so it can never write past the slab. */
  while (!error && count < reader->max_batch && reader->slab_size - offset >= reader->max_frame) {
    ssize_t n = read_frame(reader, reader->slab + offset, count);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        error = errno;
        syscall = "read";
      }
      break;
    }
    if (n == 0) break; /* a TAP never returns 0 for a frame; treat it as "nothing ready" */
    reader->lengths[count++] = (uint32_t)n;
    offset += (size_t)n;
  }
  if (error) {
    /* The device is gone (EBADFD after deletion) or the fd is bad: stop, or epoll would wake us forever. */
    reader->stopped = 1;
    uv_poll_stop(&reader->poll);
  }
  if (count > 0) deliver(reader, count, 0, NULL);
  if (error) deliver(reader, 0, error, syscall);
}

static int reader_init(napi_env env, napi_value *argv, reader_t **out) {
  int32_t fd, max_frame;
  napi_typedarray_type slab_type, lengths_type;
  size_t slab_len, lengths_len;
  void *slab_data, *lengths_data;
  napi_valuetype callback_type;
  if (!get_fd(env, argv[0], &fd) || napi_get_value_int32(env, argv[3], &max_frame) != napi_ok ||
      napi_get_typedarray_info(env, argv[1], &slab_type, &slab_len, &slab_data, NULL, NULL) != napi_ok ||
      napi_get_typedarray_info(env, argv[2], &lengths_type, &lengths_len, &lengths_data, NULL, NULL) != napi_ok ||
      napi_typeof(env, argv[4], &callback_type) != napi_ok || callback_type != napi_function ||
      slab_type != napi_uint8_array || lengths_type != napi_uint32_array || max_frame <= 0 ||
      (size_t)max_frame > slab_len || lengths_len == 0) {
    return 0;
  }
  reader_t *reader = calloc(1, sizeof *reader);
  if (!reader) return -1;
  reader->env = env;
  reader->fd = fd;
  reader->slab = slab_data;
  reader->slab_size = slab_len;
  reader->lengths = lengths_data;
  reader->max_batch = lengths_len;
  reader->max_frame = (size_t)max_frame;
  napi_valuetype meta_kind;
  if (napi_typeof(env, argv[5], &meta_kind) == napi_ok && meta_kind == napi_object) {
    napi_typedarray_type meta_type;
    size_t meta_len;
    void *meta_data;
    if (napi_get_typedarray_info(env, argv[5], &meta_type, &meta_len, &meta_data, NULL, NULL) != napi_ok ||
        meta_type != napi_uint16_array || meta_len < lengths_len * META_STRIDE) {
      free(reader);
      return 0;
    }
    reader->meta = meta_data;
    napi_create_reference(env, argv[5], 1, &reader->meta_ref);
  }
  napi_value resource_name;
  napi_create_string_utf8(env, "tapvpn:tap-read", NAPI_AUTO_LENGTH, &resource_name);
  napi_async_init(env, NULL, resource_name, &reader->async_context);
  napi_create_reference(env, argv[4], 1, &reader->callback);
  napi_create_reference(env, argv[1], 1, &reader->slab_ref);
  napi_create_reference(env, argv[2], 1, &reader->lengths_ref);
  *out = reader;
  return 1;
}

/*
 * startReading(fd, slab: Uint8Array, lengths: Uint32Array, maxFrame: number, callback(count, error),
 *              meta?: Uint16Array of 6 per lengths entry — given iff the fd was opened with vnetHdr) -> handle
 */
static napi_value tap_start_reading(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) napi_get_undefined(env, &argv[5]);
  reader_t *reader = NULL;
  int ok = argc < 5 ? 0 : reader_init(env, argv, &reader);
  if (ok < 0) return throw_errno(env, ENOMEM, "calloc", NULL);
  if (ok == 0) {
    napi_throw_range_error(env, "ERR_INVALID_ARG_TYPE",
                           "startReading(fd, slab: Uint8Array >= maxFrame, lengths: non-empty Uint32Array, maxFrame > 0, callback, meta?: Uint16Array >= 6 x lengths)");
    return NULL;
  }
  uv_loop_t *loop;
  int rc = napi_get_uv_event_loop(env, &loop) == napi_ok ? uv_poll_init(loop, &reader->poll, reader->fd) : UV_EINVAL;
  if (rc != 0) {
    reader_release(reader);
    return throw_errno(env, -rc, "uv_poll_init", NULL);
  }
  reader->poll.data = reader;
  rc = uv_poll_start(&reader->poll, UV_READABLE, on_readable);
  if (rc != 0) {
    reader->closing = 1;
    uv_close((uv_handle_t *)&reader->poll, reader_closed);
    return throw_errno(env, -rc, "uv_poll_start", NULL);
  }
  napi_value handle;
  CHECK(napi_create_external(env, reader, NULL, NULL, &handle));
  return handle;
}

/* stopReading(handle): stops the poll now (the fd leaves epoll); the reader is freed once libuv has closed it. Idempotent. */
static napi_value tap_stop_reading(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  reader_t *reader;
  if (argc < 1 || napi_get_value_external(env, argv[0], (void **)&reader) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "stopReading(handle)");
    return NULL;
  }
  if (!reader->closing) {
    reader->stopped = 1;
    reader->closing = 1;
    uv_poll_stop(&reader->poll);
    uv_close((uv_handle_t *)&reader->poll, reader_closed);
  }
  return NULL;
}

/* setReading(handle, on: boolean): pauses (uv_poll_stop) or resumes the reads; a no-op once stopped. */
static napi_value tap_set_reading(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  reader_t *reader;
  bool on;
  if (argc < 2 || napi_get_value_external(env, argv[0], (void **)&reader) != napi_ok ||
      napi_get_value_bool(env, argv[1], &on) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "setReading(handle, on: boolean)");
    return NULL;
  }
  if (reader->stopped || reader->closing || reader->paused == !on) return NULL;
  int rc = on ? uv_poll_start(&reader->poll, UV_READABLE, on_readable) : uv_poll_stop(&reader->poll);
  if (rc != 0) return throw_errno(env, -rc, on ? "uv_poll_start" : "uv_poll_stop", NULL);
  reader->paused = !on;
  return NULL;
}

/* The carrier options JavaScript may set: a closed list, so the addon is no general setsockopt. */
static int socket_option(const char *name, int *level, int *option) {
  if (strcmp(name, "TCP_NOTSENT_LOWAT") == 0) *level = IPPROTO_TCP, *option = TCP_NOTSENT_LOWAT;
  else if (strcmp(name, "SO_SNDBUF") == 0) *level = SOL_SOCKET, *option = SO_SNDBUF;
  else if (strcmp(name, "SO_RCVBUF") == 0) *level = SOL_SOCKET, *option = SO_RCVBUF;
  else return 0;
  return 1;
}

/* setSocketOption(fd, name: "TCP_NOTSENT_LOWAT" | "SO_SNDBUF" | "SO_RCVBUF", value: int >= 0) */
static napi_value tap_set_socket_option(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd, value;
  char name[32] = {0};
  int level, option;
  if (argc < 3 || !get_fd(env, argv[0], &fd) ||
      napi_get_value_string_utf8(env, argv[1], name, sizeof name, NULL) != napi_ok ||
      napi_get_value_int32(env, argv[2], &value) != napi_ok || value < 0 || !socket_option(name, &level, &option)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
                          "setSocketOption(fd >= 0, name: TCP_NOTSENT_LOWAT | SO_SNDBUF | SO_RCVBUF, value: integer >= 0)");
    return NULL;
  }
  if (setsockopt(fd, level, option, &value, sizeof value) < 0) return throw_errno(env, errno, "setsockopt", name);
  return NULL;
}

/* getSocketOption(fd, name) -> number: what the kernel holds (SO_SNDBUF/SO_RCVBUF read back doubled, see socket(7)). */
static napi_value tap_get_socket_option(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  char name[32] = {0};
  int level, option, value = 0;
  socklen_t length = sizeof value;
  if (argc < 2 || !get_fd(env, argv[0], &fd) ||
      napi_get_value_string_utf8(env, argv[1], name, sizeof name, NULL) != napi_ok || !socket_option(name, &level, &option)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "getSocketOption(fd >= 0, name: TCP_NOTSENT_LOWAT | SO_SNDBUF | SO_RCVBUF)");
    return NULL;
  }
  if (getsockopt(fd, level, option, &value, &length) < 0) return throw_errno(env, errno, "getsockopt", name);
  napi_value result;
  CHECK(napi_create_int32(env, value, &result));
  return result;
}

/* One write; with the virtio-net header, writev() of the header (from meta, or zeros) and the frame. */
static ssize_t write_frame(int fd, const void *data, size_t length, bool vnet_hdr, const uint16_t *meta) {
  if (!vnet_hdr) return write(fd, data, length);
  struct virtio_net_hdr hdr;
  memset(&hdr, 0, sizeof hdr);
  if (meta) {
    hdr.flags = (uint8_t)meta[0], hdr.gso_type = (uint8_t)meta[1], hdr.hdr_len = meta[2];
    hdr.gso_size = meta[3], hdr.csum_start = meta[4], hdr.csum_offset = meta[5];
  }
  struct iovec iov[2] = {{&hdr, VNET_HDR_BYTES}, {(void *)data, length}};
  ssize_t n = writev(fd, iov, 2);
  return n < 0 ? n : n - VNET_HDR_BYTES;
}

/*
 * writeFrames(fd, frames: Uint8Array[], vnetHdr?: boolean, meta?: Uint16Array of 6 per frame)
 *   -> number written; refused frames are drops. With vnetHdr and no meta every frame is plain.
 */
static napi_value tap_write_frames(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  uint32_t count;
  if (argc < 2 || !get_fd(env, argv[0], &fd) || napi_get_array_length(env, argv[1], &count) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "writeFrames(fd, frames: Uint8Array[], vnetHdr?: boolean, meta?: Uint16Array)");
    return NULL;
  }
  bool vnet_hdr = false;
  if (argc >= 3) napi_get_value_bool(env, argv[2], &vnet_hdr);
  const uint16_t *meta = NULL;
  size_t meta_len = 0;
  napi_valuetype meta_kind;
  if (argc >= 4 && napi_typeof(env, argv[3], &meta_kind) == napi_ok && meta_kind == napi_object) {
    napi_typedarray_type meta_type;
    void *meta_data;
    if (napi_get_typedarray_info(env, argv[3], &meta_type, &meta_len, &meta_data, NULL, NULL) != napi_ok || meta_type != napi_uint16_array) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "writeFrames: meta must be a Uint16Array");
      return NULL;
    }
    meta = meta_data;
  }
  uint32_t written = 0;
  for (uint32_t i = 0; i < count; i++) {
    napi_value element;
    napi_typedarray_type type;
    size_t length;
    void *data;
    if (napi_get_element(env, argv[1], i, &element) != napi_ok ||
        napi_get_typedarray_info(env, element, &type, &length, &data, NULL, NULL) != napi_ok ||
        type != napi_uint8_array || length == 0) {
      continue; /* not a frame: a drop */
    }
    const uint16_t *frame_meta = meta && (size_t)(i + 1) * META_STRIDE <= meta_len ? meta + (size_t)i * META_STRIDE : NULL;
    ssize_t n;
    do n = write_frame(fd, data, length, vnet_hdr, frame_meta);
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)length) written++;
    else if (n < 0 && errno == EBADF) return throw_errno(env, EBADF, "write", "the TAP device is closed");
    /* EAGAIN, ENOBUFS, EINVAL (runt frame), EIO: the kernel refused this frame; a drop. */
  }
  napi_value result;
  CHECK(napi_create_uint32(env, written, &result));
  return result;
}

/* close(fd): closes the TAP file descriptor; the kernel removes a non-persistent device. Stop reading first. */
static napi_value tap_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  if (argc < 1 || !get_fd(env, argv[0], &fd)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "close(fd)");
    return NULL;
  }
  /* On Linux the fd is released even when close() reports EINTR: never retry it. */
  if (close(fd) < 0 && errno != EINTR) return throw_errno(env, errno, "close", NULL);
  return NULL;
}

/*
 * bindTcp(address: IPv4 or IPv6 literal, port) -> { fd, port }: a TCP socket
 * bound, not listening (close-on-exec, SO_REUSEADDR like Node's listeners;
 * "::" dual-stack like Node's). startAccepting listens on it: until then
 * the kernel completes no handshake on the port.
 */
static napi_value tap_bind_tcp(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char address[INET6_ADDRSTRLEN + 1];
  int32_t port;
  if (argc < 2 || napi_get_value_string_utf8(env, argv[0], address, sizeof address, NULL) != napi_ok ||
      napi_get_value_int32(env, argv[1], &port) != napi_ok || port < 0 || port > 65535) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "bindTcp(address: IP literal, port: 0..65535)");
    return NULL;
  }
  struct sockaddr_storage storage;
  memset(&storage, 0, sizeof storage);
  struct sockaddr_in *v4 = (struct sockaddr_in *)&storage;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&storage;
  socklen_t length;
  if (inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    length = sizeof *v4;
  } else if (inet_pton(AF_INET6, address, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    length = sizeof *v6;
  } else {
    return throw_errno(env, EINVAL, "bindTcp", "expected an IPv4 or IPv6 address literal");
  }
  int fd = socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket", NULL);
  int on = 1, off = 0;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
      (storage.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) < 0) ||
      bind(fd, (struct sockaddr *)&storage, length) < 0 || getsockname(fd, (struct sockaddr *)&storage, &length) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "bind", address);
  }
  napi_value result, fd_value, port_value;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_int32(env, fd, &fd_value));
  CHECK(napi_create_int32(env, ntohs(storage.ss_family == AF_INET6 ? v6->sin6_port : v4->sin_port), &port_value));
  CHECK(napi_set_named_property(env, result, "fd", fd_value));
  CHECK(napi_set_named_property(env, result, "port", port_value));
  return result;
}

/*
 * The accept loop of a TCP listener, for JavaScript to wrap each connection
 * in a net.Socket({ fd, onread }): Node's net.Server accepts only into
 * sockets that read into a fresh 64 KiB buffer per read, and under load that
 * garbage was most of the server's peak memory.
 */
typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context async_context;
  int fd;
  int paused;
  int closing;
} acceptor_t;

/* Connections taken per wake-up: the rest wait in the backlog for the next turn, so a flood cannot starve the data path. */
#define ACCEPTS_PER_WAKEUP 64

static void acceptor_closed(uv_handle_t *handle) {
  acceptor_t *acceptor = (acceptor_t *)handle->data;
  napi_delete_reference(acceptor->env, acceptor->callback);
  napi_async_destroy(acceptor->env, acceptor->async_context);
  free(acceptor);
}

/* callback(fd, error|undefined): fd is the new connection's (its owner closes it), or -1 with the error. */
static void deliver_connection(acceptor_t *acceptor, int fd, int error) {
  napi_env env = acceptor->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) {
    if (fd >= 0) close(fd);
    return;
  }
  napi_value argv[2];
  napi_create_int32(env, fd, &argv[0]);
  if (error) argv[1] = errno_error(env, error, "accept4", "accepting a connection");
  else napi_get_undefined(env, &argv[1]);
  call_back(env, acceptor->callback, acceptor->async_context, 2, argv);
  napi_close_handle_scope(env, scope);
}

/* Errors of one connection that died in the backlog (accept(2), "Error handling"): skip it, keep accepting. */
static int connection_error(int err) {
  return err == ECONNABORTED || err == EPROTO || err == ENETDOWN || err == ENOPROTOOPT || err == EHOSTDOWN ||
         err == ENONET || err == EHOSTUNREACH || err == EOPNOTSUPP || err == ENETUNREACH || err == EPERM;
}

static void on_acceptable(uv_poll_t *poll, int status, int events) {
  (void)events;
  acceptor_t *acceptor = (acceptor_t *)poll->data;
  if (acceptor->closing || acceptor->paused) return;
  if (status < 0) return deliver_connection(acceptor, -1, -status);
  for (int taken = 0; taken < ACCEPTS_PER_WAKEUP && !acceptor->closing && !acceptor->paused;) {
    int fd = accept4(acceptor->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      taken++;
      deliver_connection(acceptor, fd, 0);
      continue;
    }
    if (errno == EINTR || connection_error(errno)) continue;
    /* EMFILE, ENFILE, ENOBUFS, ENOMEM: reported, and JavaScript pauses us a while (the backlog waits). */
    if (errno != EAGAIN && errno != EWOULDBLOCK) deliver_connection(acceptor, -1, errno);
    break;
  }
}

/*
 * startAccepting(fd: a bound TCP socket (bindTcp), backlog, callback(fd, error)) -> handle:
 * listen(), then accept4 (non-blocking, close-on-exec) on the event loop.
 */
static napi_value tap_start_accepting(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd, backlog;
  napi_valuetype callback_type;
  if (argc < 3 || !get_fd(env, argv[0], &fd) || napi_get_value_int32(env, argv[1], &backlog) != napi_ok || backlog < 1 ||
      napi_typeof(env, argv[2], &callback_type) != napi_ok || callback_type != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "startAccepting(fd, backlog > 0, callback)");
    return NULL;
  }
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return throw_errno(env, errno, "fcntl", NULL);
  if (listen(fd, backlog) < 0) return throw_errno(env, errno, "listen", NULL);
  acceptor_t *acceptor = calloc(1, sizeof *acceptor);
  if (!acceptor) return throw_errno(env, ENOMEM, "calloc", NULL);
  acceptor->env = env;
  acceptor->fd = fd;
  uv_loop_t *loop;
  int rc = napi_get_uv_event_loop(env, &loop) == napi_ok ? uv_poll_init(loop, &acceptor->poll, fd) : UV_EINVAL;
  if (rc != 0) {
    free(acceptor);
    return throw_errno(env, -rc, "uv_poll_init", NULL);
  }
  napi_value resource_name;
  napi_create_string_utf8(env, "tapvpn:tcp-accept", NAPI_AUTO_LENGTH, &resource_name);
  napi_async_init(env, NULL, resource_name, &acceptor->async_context);
  napi_create_reference(env, argv[2], 1, &acceptor->callback);
  acceptor->poll.data = acceptor;
  rc = uv_poll_start(&acceptor->poll, UV_READABLE, on_acceptable);
  if (rc != 0) {
    acceptor->closing = 1;
    uv_close((uv_handle_t *)&acceptor->poll, acceptor_closed);
    return throw_errno(env, -rc, "uv_poll_start", NULL);
  }
  napi_value handle;
  CHECK(napi_create_external(env, acceptor, NULL, NULL, &handle));
  return handle;
}

static acceptor_t *acceptor_argument(napi_env env, napi_callback_info info, size_t want, napi_value *argv, const char *usage) {
  size_t argc = want;
  acceptor_t *acceptor;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want ||
      napi_get_value_external(env, argv[0], (void **)&acceptor) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", usage);
    return NULL;
  }
  return acceptor;
}

/* setAccepting(handle, on): pauses (out of epoll; connections wait in the backlog) or resumes. */
static napi_value tap_set_accepting(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  acceptor_t *acceptor = acceptor_argument(env, info, 2, argv, "setAccepting(handle, on: boolean)");
  bool on;
  if (!acceptor) return NULL;
  if (napi_get_value_bool(env, argv[1], &on) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "setAccepting(handle, on: boolean)");
    return NULL;
  }
  if (acceptor->closing || acceptor->paused == !on) return NULL;
  int rc = on ? uv_poll_start(&acceptor->poll, UV_READABLE, on_acceptable) : uv_poll_stop(&acceptor->poll);
  if (rc != 0) return throw_errno(env, -rc, on ? "uv_poll_start" : "uv_poll_stop", NULL);
  acceptor->paused = !on;
  return NULL;
}

/* stopAccepting(handle): out of epoll now, then closes the listening fd; idempotent. */
static napi_value tap_stop_accepting(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  acceptor_t *acceptor = acceptor_argument(env, info, 1, argv, "stopAccepting(handle)");
  if (!acceptor || acceptor->closing) return NULL;
  acceptor->closing = 1;
  uv_poll_stop(&acceptor->poll);
  close(acceptor->fd);
  uv_close((uv_handle_t *)&acceptor->poll, acceptor_closed);
  return NULL;
}

/*
 * Capability sets are per thread. setuid from root, which glibc applies to
 * every thread of the process, is what empties the other threads' sets;
 * these two act on the calling thread only, in this order around it:
 *
 * dropBoundingSet() -> boolean: no_new_privs, then every capability out of
 * the bounding set, so nothing exec'd later can gain one. Needs CAP_SETPCAP
 * (false without it: the set stays as it was given). Leaves the effective
 * and permitted sets alone — setuid still needs CAP_SETUID/CAP_SETGID (an
 * earlier capset to zero made glibc abort on a half-applied setuid).
 */
static napi_value tap_drop_bounding_set(napi_env env, napi_callback_info info) {
  (void)info;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return throw_errno(env, errno, "prctl", "PR_SET_NO_NEW_PRIVS");
  bool dropped = true;
  for (int cap = 0; cap < 64; cap++) {
    int present = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (present < 0) break; /* EINVAL: past the last capability this kernel knows */
    if (present == 0) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
      if (errno != EPERM) return throw_errno(env, errno, "prctl", "PR_CAPBSET_DROP");
      dropped = false;
    }
  }
  napi_value result;
  CHECK(napi_get_boolean(env, dropped, &result));
  return result;
}

/* clearCapabilities(): the ambient set cleared, then effective, permitted and inheritable emptied (capset). */
static napi_value tap_clear_capabilities(napi_env env, napi_callback_info info) {
  (void)info;
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
    return throw_errno(env, errno, "prctl", "PR_CAP_AMBIENT_CLEAR_ALL");
  }
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  memset(data, 0, sizeof data);
  if (syscall(SYS_capset, &header, data) < 0) return throw_errno(env, errno, "capset", NULL);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, tap_open, NULL, NULL, NULL, napi_default, NULL},
      {"getMac", NULL, tap_get_mac, NULL, NULL, NULL, napi_default, NULL},
      {"startReading", NULL, tap_start_reading, NULL, NULL, NULL, napi_default, NULL},
      {"stopReading", NULL, tap_stop_reading, NULL, NULL, NULL, napi_default, NULL},
      {"setReading", NULL, tap_set_reading, NULL, NULL, NULL, napi_default, NULL},
      {"setSocketOption", NULL, tap_set_socket_option, NULL, NULL, NULL, napi_default, NULL},
      {"getSocketOption", NULL, tap_get_socket_option, NULL, NULL, NULL, napi_default, NULL},
      {"writeFrames", NULL, tap_write_frames, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, tap_close, NULL, NULL, NULL, napi_default, NULL},
      {"bindTcp", NULL, tap_bind_tcp, NULL, NULL, NULL, napi_default, NULL},
      {"startAccepting", NULL, tap_start_accepting, NULL, NULL, NULL, napi_default, NULL},
      {"setAccepting", NULL, tap_set_accepting, NULL, NULL, NULL, napi_default, NULL},
      {"stopAccepting", NULL, tap_stop_accepting, NULL, NULL, NULL, napi_default, NULL},
      {"dropBoundingSet", NULL, tap_drop_bounding_set, NULL, NULL, NULL, napi_default, NULL},
      {"clearCapabilities", NULL, tap_clear_capabilities, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
