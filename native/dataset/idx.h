/*
** idx.h: reader for the gzip'd idx files of MNIST-style datasets (Debian's dataset-fashion-mnist:
** /usr/share/datasets/fashion-mnist, files ending .gz). Images (magic 0x803) become float32 rows; labels (magic
** 0x801) become bytes.
*/
#ifndef VALORI_IDX_H
#define VALORI_IDX_H
#include <stddef.h>
#include <stdint.h>

#define VALORI_FMNIST_DIR "/usr/share/datasets/fashion-mnist"

/* Reads up to max_rows rows (0 = all) of an idx3 image file into a malloc'd float array. Returns 0,
** or -1 after printing the reason to stderr. */
int valori_idx_images(const char *path, size_t max_rows, float **out, size_t *rows, size_t *dim);
/* Reads up to max_rows labels of an idx1 file into a malloc'd byte array. */
int valori_idx_labels(const char *path, size_t max_rows, uint8_t **out, size_t *rows);
#endif
