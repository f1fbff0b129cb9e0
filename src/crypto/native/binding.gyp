{
  "targets": [
    {
      "target_name": "tapvpn_aead",
      "sources": ["aead.c"],
      "cflags": ["-Wall", "-Wextra", "-Wshadow", "-O2", "-D_FORTIFY_SOURCE=2"]
    }
  ]
}
