/*
** replay_main.c: runs a libFuzzer target without libFuzzer, for the normal test run: every file of
** the corpus directories given on the command line goes through LLVMFuzzerTestOneInput, and so do
** deterministic variants of it (a bit flipped at 64 spread positions, 16 truncations), so the
** committed corpora keep exercising the decoders under the sanitizer build. Exit 0 unless a
** directory cannot be read (a decoder bug shows up as a crash or a sanitizer report).
*/
#define _DEFAULT_SOURCE 1
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path, unsigned long *inputs) {
  FILE *f = fopen(path, "rb");
  uint8_t *buf, *var;
  long n;
  size_t len, k;
  if (!f) return 1;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  len = n > 0 ? (size_t)n : 0;
  buf = (uint8_t *)malloc(len ? len : 1);
  var = (uint8_t *)malloc(len ? len : 1);
  if (!buf || !var || fread(buf, 1, len, f) != len) {
    fclose(f);
    free(buf);
    free(var);
    return 1;
  }
  fclose(f);
  /* exact-size copies so that ASan sees any read past the end */
  {
    uint8_t *exact = (uint8_t *)malloc(len ? len : 1);
    memcpy(exact, buf, len);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
  }
  (*inputs)++;
  for (k = 0; k < 64 && len; k++) {
    size_t pos = (k * 2654435761u) % len;
    memcpy(var, buf, len);
    var[pos] ^= (uint8_t)(1u << (k % 8));
    LLVMFuzzerTestOneInput(var, len);
    (*inputs)++;
  }
  for (k = 1; k <= 16 && len; k++) {
    size_t cut = len * k / 17;
    uint8_t *exact = (uint8_t *)malloc(cut ? cut : 1);
    memcpy(exact, buf, cut);
    LLVMFuzzerTestOneInput(exact, cut);
    free(exact);
    (*inputs)++;
  }
  free(buf);
  free(var);
  return 0;
}

int main(int argc, char **argv) {
  int i;
  unsigned long files = 0, inputs = 0;
  for (i = 1; i < argc; i++) {
    DIR *d = opendir(argv[i]);
    struct dirent *e;
    char path[4096];
    if (!d) {
      fprintf(stderr, "cannot open corpus %s\n", argv[i]);
      return 2;
    }
    while ((e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.') continue;
      snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
      if (run_file(path, &inputs) == 0) files++;
    }
    closedir(d);
  }
  printf("replayed %lu corpus files (%lu inputs with variants)\n", files, inputs);
  return files ? 0 : 2;
}
