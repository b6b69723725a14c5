/*
** cli.h: the `valori` command-line tool: a dispatch table of subcommands (cli.c), each in its own
** file (cmd_*.c), plus the helpers they share.
**
** Exit codes (every subcommand): 0 success; 1 the store is damaged or diverged (the message names
** file and offset); 2 usage error; 3 any other failure (I/O error, missing store, out of memory).
*/
#ifndef VALORI_CLI_H
#define VALORI_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "valori.h"
#include "valori_native.h"

#define VCLI_OK 0
#define VCLI_DAMAGED 1
#define VCLI_USAGE 2
#define VCLI_FAILED 3

/* A subcommand: argv[0] is the subcommand's name. */
typedef struct vcli_cmd {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *usage;   /* arguments, e.g. "DIR [--to HEIGHT]" */
  const char *summary; /* one line */
} vcli_cmd;

int vcli_demo(int argc, char **argv);
int vcli_inspect(int argc, char **argv);
int vcli_verify(int argc, char **argv);
int vcli_replay(int argc, char **argv);
int vcli_serve(int argc, char **argv);
int vcli_follow(int argc, char **argv);

/* Prints 32 bytes as 64 lowercase hex digits. */
void vcli_hex(FILE *f, const uint8_t b[32]);
/* Maps a VALORI code to the exit codes above. */
int vcli_exit_for(int code);
/* Prints a recovery report's problem ("error: ..." with file, offset, height, detail). */
void vcli_print_problem(FILE *f, const char *dir, const valori_recovery *r);
/* Opens dir read-only as a VFS; prints the error and returns NULL on failure. */
valori_vfs *vcli_open_dir(const char *dir);
/* Parses a decimal u64; returns 1 on success. */
int vcli_parse_u64(const char *s, uint64_t *out);

#endif /* VALORI_CLI_H */
