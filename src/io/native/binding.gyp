{
  "targets": [
    {
      "target_name": "tapvpn_tcpinfo",
      "sources": ["tcp-info.c"],
      "cflags": ["-Wall", "-Wextra", "-Wshadow", "-O2", "-D_FORTIFY_SOURCE=2"]
    }
  ]
}
