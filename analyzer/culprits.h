/* culprits.h - the catalogue of known causes that keep an AssemblyLoadContext alive: loaded from the
 * JSON embedded at build time (analyzer/culprits.json -> build/gen/culprits_data.c), and matched against
 * a classified root. It knows nothing of SOS text; classify.c feeds it kinds, culprits, chains and mechanisms. */
#ifndef DS_CULPRITS_H
#define DS_CULPRITS_H

#include <stddef.h>

#include "core/ds.h"

/* The embedded catalogue text (generated from analyzer/culprits.json by mk/culprits.mk). */
extern const char culprits_json[];
extern const size_t culprits_json_len;

/* One alternative of an entry's match list: every non-NULL field must match (globs: '*' any text,
 * '?' one character; kind and mechanism compare exactly). */
struct culprit_alt {
	char *kind, *culprit, *chain, *static_type, *mechanism;
};

struct culprit_entry {
	char *id, *title, *explanation, *advice;
	struct culprit_alt *alts;
	size_t nalts;
};

struct culprit_catalogue {
	struct culprit_entry *entries; /* in file order: the first match wins */
	size_t n;
};

/* Parses a catalogue (json need not be NUL-terminated). The catalogue owns all its memory; free it with
 * culprits_free. Errors: DS_EFORMAT (not the expected JSON shape, message says which entry),
 * DS_ETOOBIG (over 1 MiB or 1000 entries), DS_ENOMEM. Reentrant. */
int culprits_load(const char *json, size_t len, struct culprit_catalogue *cat, struct ds_err *err);
/* Loads the embedded catalogue. */
int culprits_load_builtin(struct culprit_catalogue *cat, struct ds_err *err);
void culprits_free(struct culprit_catalogue *cat);

/* The first entry matching; NULL if none does. Any argument but cat may be NULL (a NULL value matches
 * only a field the alternative leaves out). The result is owned by cat. Reentrant. */
const struct culprit_entry *culprits_match(const struct culprit_catalogue *cat, const char *kind,
	const char *culprit, const char *chain, const char *static_type, const char *mechanism);

/* Glob match ('*', '?'); exposed for tests. */
int culprits_glob(const char *pat, const char *s);

#endif
