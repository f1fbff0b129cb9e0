{
  "targets": [
    {
      "target_name": "tapvpn_tap",
      "sources": ["adapter/native/tap.c"],
      "cflags": ["-Wall", "-Wextra", "-Wshadow", "-O2", "-D_FORTIFY_SOURCE=2"]
    },
    {
      "target_name": "tapvpn_aead",
      "sources": ["src/crypto/native/aead.c"],
      "cflags": ["-Wall", "-Wextra", "-Wshadow", "-O2", "-D_FORTIFY_SOURCE=2"]
    }
  ]
}
