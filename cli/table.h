/* table.h - output helpers shared by the CLI's listings: aligned text columns that fit the terminal
 * width (cells cut with an ellipsis, control characters made harmless), colour only when asked for
 * (callers decide with cli_use_color), RFC 4180 CSV with correct quoting, and JSON printing. It knows
 * nothing of the database or of what a column means; commands fill the cells. */
#ifndef DS_CLI_TABLE_H
#define DS_CLI_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/ds.h"

struct cJSON;

enum table_mode { TABLE_TEXT = 0, TABLE_JSON, TABLE_CSV };
enum table_color { TABLE_PLAIN = 0, TABLE_RED, TABLE_GREEN, TABLE_YELLOW, TABLE_DIM, TABLE_BOLD };

struct table_col {
	const char *name;   /* header (text) and CSV column name */
	int right;          /* right-aligned (numbers) */
	int shrink;         /* may be cut to fit the width (long text: paths, titles) */
};

struct table {
	const struct table_col *cols; /* borrowed; must outlive the table */
	size_t ncols;
	int mode;                     /* enum table_mode: how time and size cells are written */
	char **cells;                 /* row-major, ncells of them, owned */
	unsigned char *colors;
	size_t ncells, cap, colors_cap; /* capacities of cells and colors (core/carr.h) */
	int next_color;
};

/* Starts an empty table (nothing allocated yet). */
void table_init(struct table *t, const struct table_col *cols, size_t ncols, int mode);
/* Frees the cells. NULL-safe and idempotent. */
void table_free(struct table *t);
/* Appends one cell (rows fill left to right, a new row after the last column). NULL is an empty cell.
 * The text is copied. DS_ENOMEM. Not thread-safe (one table per thread). */
int table_cell(struct table *t, const char *s);
int table_cellf(struct table *t, const char *fmt, ...) DS_PRINTF(2, 3);
/* A time (ms since the epoch; <= 0 empty): "YYYY-MM-DD HH:MM" UTC in text, ISO 8601 in CSV. */
int table_cell_time(struct table *t, int64_t ms);
/* A size in bytes: "1.5 MiB" in text, the plain number in CSV. */
int table_cell_size(struct table *t, int64_t bytes);
/* The colour of the next cell (text on a terminal only). */
void table_color(struct table *t, int color);
/* Number of complete rows so far. */
size_t table_rows(const struct table *t);

/* Writes the table: text (header, then rows; width > 0 cuts shrinkable columns to fit it, 0 never
 * cuts; color adds ANSI colours) or CSV (header row, CRLF line ends, every field quoted when needed; a
 * text field that a spreadsheet would take for a formula gets a leading apostrophe). Returns DS_OK or
 * DS_EIO when the stream reports an error. */
int table_print(const struct table *t, FILE *out, int width, int color);
/* The end of a listing built row by row: when rc is DS_OK, writes the table (table_print), or the line
 * none instead when a text table has no rows; frees t in every case. Returns rc when it is not DS_OK,
 * else what table_print returned (DS_OK after the line none). */
int table_finish(struct table *t, int rc, FILE *out, int width, int color, const char *none);

/* The display width of text in columns once cleaned (text_width: one per character, one per invalid
 * byte). Thread-safe. */
size_t table_text_width(const char *s);
/* Writes s through the one sanitiser (text_fputs: C0, DEL, C1, bidi controls replaced by '?', newline
 * kept only with keep_nl, bad UTF-8 as U+FFFD), so hostile text cannot move the cursor or change the
 * terminal. NULL writes nothing. */
void table_puts_clean(FILE *out, const char *s, int keep_nl);
/* One CSV field, quoted when it holds a comma, quote, CR, LF or leading/trailing space; quotes are
 * doubled. No formula guard (see table_print). */
void table_csv_field(FILE *out, const char *s);
/* Prints a JSON value, indented, with a final newline. DS_ENOMEM/DS_EIO. */
int table_print_json(FILE *out, const struct cJSON *v);
/* If a is --json or --csv, sets *mode and returns 1; else 0. */
int table_mode_arg(const char *a, int *mode);
/* Human size: "512 B", "1.5 KiB", "3.2 GiB". */
void table_format_size(int64_t bytes, char *dst, size_t n);

#endif
