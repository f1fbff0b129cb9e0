{
  "targets": [
    {
      "target_name": "tapvpn_tap",
      "sources": ["tap.c"],
      "cflags": ["-Wall", "-Wextra", "-Wshadow", "-O2", "-D_FORTIFY_SOURCE=2"]
    }
  ]
}
