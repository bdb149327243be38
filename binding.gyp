{
  "targets": [
    {
      "target_name": "lifeboat_native",
      "sources": ["native/addon.c", "native/gcm.c", "native/planes.c", "native/times.c"],
      "cflags": ["-O3"]
    }
  ]
}
