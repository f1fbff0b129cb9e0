/*
 * tcpRtt(fd): the kernel's smoothed round-trip time estimate of one TCP
 * socket (getsockopt TCP_INFO, tcpi_rtt / tcpi_rttvar in microseconds), for
 * the status of a tunnel. Returns undefined when the descriptor is not a
 * TCP socket (closed meanwhile); throws only on a bad argument.
 */
#include <node_api.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

static napi_value undefined_value(napi_env env) {
  napi_value value;
  napi_get_undefined(env, &value);
  return value;
}

static napi_value tcp_rtt(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "tcpRtt: expected a socket file descriptor (a non-negative integer)");
    return NULL;
  }
  struct tcp_info ti;
  socklen_t length = sizeof ti;
  memset(&ti, 0, sizeof ti);
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &length) != 0 || length < offsetof(struct tcp_info, tcpi_rttvar) + sizeof ti.tcpi_rttvar) {
    return undefined_value(env);
  }
  napi_value result, rtt, rttvar;
  if (napi_create_object(env, &result) != napi_ok || napi_create_uint32(env, ti.tcpi_rtt, &rtt) != napi_ok ||
      napi_create_uint32(env, ti.tcpi_rttvar, &rttvar) != napi_ok || napi_set_named_property(env, result, "rttUs", rtt) != napi_ok ||
      napi_set_named_property(env, result, "rttVarUs", rttvar) != napi_ok) {
    return undefined_value(env);
  }
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "tcpRtt", NAPI_AUTO_LENGTH, tcp_rtt, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "tcpRtt", fn) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
