/* listing.h - pieces the database commands share: the dump listing of `list` (also used by `show
 * bucket`) and its state colours. Defined in cmd_list.c. */
#ifndef DS_CLI_LISTING_H
#define DS_CLI_LISTING_H

#include <stdio.h>

struct cJSON;

/* Prints an array of dump summaries (store_dump_list) as a table, CSV (mode TABLE_CSV) or JSON;
 * colour and width from stdout's terminal. DS_OK, DS_ENOMEM, DS_EIO. */
int list_print(const struct cJSON *arr, int mode, FILE *out);
/* The table colour of a dump state name. */
int list_state_color(const char *state);

#endif
