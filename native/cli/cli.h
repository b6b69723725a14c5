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

/* An option a subcommand accepts, for the central checks and `valori CMD --help` (cli.c). */
typedef struct vcli_opt {
  const char *name; /* "--dir" */
  const char *arg;  /* the value's name ("DIR"), or NULL for a flag without a value */
  const char *help; /* one line, with the default if there is one */
} vcli_opt;

/* A subcommand: argv[0] is the subcommand's name.
** Before run() is called, cli.c has already answered `--help` / `-h` (anywhere in the arguments:
** the command's usage, summary and options on stdout, exit 0). When opts is not NULL it has also
** checked that every argument starting with '-' is one of opts (exit 2 with a message otherwise),
** that each option taking a value has one, and it has split `--name=value` into `--name value`;
** run() still validates the values and the positional arguments. opts NULL: run() checks its own
** options and prints its own help: on `--help` or `-h` anywhere, cli.c calls it with the arguments
** {name, "--help"} only (it must print its usage to stdout and return VCLI_OK). */
typedef struct vcli_cmd {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *usage;   /* arguments, e.g. "DIR [--to HEIGHT]" */
  const char *summary; /* one line */
  const vcli_opt *opts; /* accepted options, ending with {NULL, NULL, NULL}; NULL: see above */
  /* a line without this field (4 initializers) means opts NULL; add it to silence -Wextra */
} vcli_cmd;

int vcli_demo(int argc, char **argv);
int vcli_inspect(int argc, char **argv);
int vcli_verify(int argc, char **argv);
int vcli_replay(int argc, char **argv);
int vcli_serve(int argc, char **argv);
int vcli_follow(int argc, char **argv);
int vcli_import(int argc, char **argv);
int vcli_search(int argc, char **argv);

/* Prints 32 bytes as 64 lowercase hex digits. */
void vcli_hex(FILE *f, const uint8_t b[32]);
/* Maps a VALORI code to the exit codes above. */
int vcli_exit_for(int code);
/* Prints a recovery report's problem ("error: ..." with file, offset, height, detail). */
void vcli_print_problem(FILE *f, const char *dir, const valori_recovery *r);
/* Opens dir read-only as a VFS; prints the error and returns NULL on failure. A missing directory
** gets "no store at DIR: directory does not exist", a path that is not a directory "no store at
** DIR: not a directory"; other failures name the system error. */
valori_vfs *vcli_open_dir(const char *dir);
/* Prints "valori CMD: <message>", the command's usage line and a pointer to --help on stderr, and
** returns VCLI_USAGE (for `return vcli_usage_error("demo", "--n must be ...", ...)`). */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
int vcli_usage_error(const char *cmd, const char *fmt, ...);
/* Parses a decimal u64; returns 1 on success. */
int vcli_parse_u64(const char *s, uint64_t *out);

#endif /* VALORI_CLI_H */
