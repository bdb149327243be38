{
  "targets": [
    {
      "target_name": "lifeboat_native",
      "sources": ["native/gcm.c"],
      "cflags": ["-O2"]
    }
  ]
}
