{
  "targets": [
    {
      "target_name": "tapvpn_tap",
      "sources": ["adapter/native/tap.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
