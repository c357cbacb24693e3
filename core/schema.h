/* schema.h - the numbered SQL migrations of schema/, embedded into the binaries at build time by
 * installer/embed_schema.sh (generated file: build/gen/schema_embed.c). Read-only static data. */
#ifndef DS_SCHEMA_H
#define DS_SCHEMA_H

#include <stddef.h>

struct schema_migration {
	int version;       /* the number the file name starts with: 1 for 001_init.sql */
	const char *name;  /* file name */
	const char *sql;   /* the file's text */
};

/* Sorted by version, without gaps. */
extern const struct schema_migration schema_migrations[];
extern const size_t schema_migration_count;

#endif
