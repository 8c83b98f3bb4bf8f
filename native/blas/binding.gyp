{
  "targets": [
    {
      "target_name": "fleximodal_blas",
      "sources": ["src/blas.c"],
      "cflags": ["-O2", "-std=c11", "-Wall"],
      "libraries": ["-ldl"]
    }
  ]
}
