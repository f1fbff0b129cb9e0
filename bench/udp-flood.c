/*
 * udp-flood: sends UDP datagrams of a given size to host:port as fast as one
 * thread can for a given time, 64 per sendmmsg() call, and prints how many
 * the kernel accepted. Used by adapter-bench.ts to push frames into a TAP
 * faster than Node can read them (a Python loop tops out near 100k/s).
 *   udp-flood <ipv4> <port> <payload-bytes> <seconds>
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 64

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 5) { fprintf(stderr, "usage: udp-flood ipv4 port bytes seconds\n"); return 2; }
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2])) };
  if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) { fprintf(stderr, "bad address\n"); return 2; }
  size_t size = (size_t)atoi(argv[3]);
  double seconds = atof(argv[4]);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0) { perror("socket"); return 1; }
  char *payload = malloc(size);
  memset(payload, 0x5a, size);
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = payload;
    iov[i].iov_len = size;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  unsigned long long sent = 0;
  double end = now() + seconds;
  while (now() < end) {
    int n = sendmmsg(fd, msgs, BATCH, 0);
    if (n > 0) sent += (unsigned)n;
  }
  printf("%llu\n", sent);
  return 0;
}
