/*
 * table.c - see table.h.
 */
#include "table.h"
#include "mem.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct norc_table {
	const char *const *cols;
	size_t ncols;
	json_t *rows; /* array */
};

struct norc_table *norc_table_new(const char *const *cols)
{
	struct norc_table *t = norc_xcalloc(1, sizeof(*t));
	t->cols = cols;
	while (cols[t->ncols])
		t->ncols++;
	t->rows = json_array();
	return t;
}

void norc_table_free(struct norc_table *t)
{
	if (!t)
		return;
	json_decref(t->rows);
	free(t);
}

void norc_table_add(struct norc_table *t, json_t *row) { json_array_append_new(t->rows, row); }

/* Text of one cell into buf. */
static const char *cell(json_t *v, char *buf, size_t len)
{
	if (!v || json_is_null(v))
		return "-";
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	if (json_is_true(v))
		return "yes";
	if (json_is_false(v))
		return "no";
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	snprintf(buf, len, "%s", s ? s : "?");
	free(s);
	return buf;
}

static void print_header(const char *name, int width, FILE *out)
{
	for (const char *c = name; *c; c++)
		fputc(*c == '_' ? ' ' : toupper((unsigned char)*c), out);
	fprintf(out, "%*s", width - (int)strlen(name), "");
}

void norc_table_print(const struct norc_table *t, FILE *out, bool json)
{
	if (json) {
		json_dumpf(t->rows, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', out);
		return;
	}
	size_t *w = norc_xcalloc(t->ncols, sizeof(size_t));
	char buf[64];
	for (size_t c = 0; c < t->ncols; c++)
		w[c] = strlen(t->cols[c]);
	size_t i;
	json_t *row;
	json_array_foreach(t->rows, i, row) {
		for (size_t c = 0; c < t->ncols; c++) {
			size_t l = strlen(cell(json_object_get(row, t->cols[c]), buf, sizeof(buf)));
			if (l > w[c])
				w[c] = l;
		}
	}
	for (size_t c = 0; c < t->ncols; c++) {
		if (c + 1 < t->ncols) {
			print_header(t->cols[c], (int)w[c] + 2, out);
		} else {
			print_header(t->cols[c], (int)strlen(t->cols[c]), out);
		}
	}
	fputc('\n', out);
	json_array_foreach(t->rows, i, row) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = cell(json_object_get(row, t->cols[c]), buf, sizeof(buf));
			if (c + 1 < t->ncols)
				fprintf(out, "%-*s", (int)w[c] + 2, s);
			else
				fputs(s, out);
		}
		fputc('\n', out);
	}
	free(w);
}

void norc_table_print_rows(const char *const *cols, json_t *rows, FILE *out, bool json)
{
	struct norc_table *t = norc_table_new(cols);
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) norc_table_add(t, json_incref(row));
	norc_table_print(t, out, json);
	norc_table_free(t);
}

void norc_table_print_record(const char *const *keys, json_t *obj, FILE *out, bool json)
{
	if (json) {
		json_dumpf(obj, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', out);
		return;
	}
	int w = 0;
	for (size_t k = 0; keys[k]; k++)
		if ((int)strlen(keys[k]) > w)
			w = (int)strlen(keys[k]);
	char buf[64];
	for (size_t k = 0; keys[k]; k++)
		fprintf(out, "%s:%*s %s\n", keys[k], w - (int)strlen(keys[k]), "",
			cell(json_object_get(obj, keys[k]), buf, sizeof(buf)));
}
