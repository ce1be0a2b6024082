/*
 * table.h - what the CLIs print: rows as an aligned text table, or as JSON (--json).
 *
 * Rows are jansson objects whose values are strings, integers or null; the columns are given
 * once, in order, as keys. Text mode prints the headers upper-cased and null as "-".
 */
#ifndef NORC_TABLE_H
#define NORC_TABLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

struct norc_table;

/* cols: NULL-terminated array of column keys (borrowed for the table's life; use literals). */
struct norc_table *norc_table_new(const char *const *cols); /* caller frees with norc_table_free */
void norc_table_free(struct norc_table *t);
/* Append a row; the table takes the reference (transferred). */
void norc_table_add(struct norc_table *t, json_t *row);
/* Print to out: JSON array when json, else aligned columns. */
void norc_table_print(const struct norc_table *t, FILE *out, bool json);
/* Print an array of row objects (borrowed) with the given columns: a table, or the JSON. */
void norc_table_print_rows(const char *const *cols, json_t *rows, FILE *out, bool json);
/* Print one object as "key: value" lines, or as a JSON object. Borrowed. */
void norc_table_print_record(const char *const *keys, json_t *obj, FILE *out, bool json);

#endif
