/* plat_win.h - private to the Windows platform files (plat_win.c and the Windows integration, win_*.c):
 * the conversions every Windows call needs, defined once in plat_win.c. Not for the rest of the tree,
 * which sees only plat.h and win.h. Strings are UTF-8 outside, UTF-16 at the wide (...W) APIs. */
#ifndef DS_PLAT_WIN_H
#define DS_PLAT_WIN_H

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <stddef.h>

/* Longest path or string we convert: the NT limit of 32767 UTF-16 units. */
#define PLAT_WIN_PATH_MAX 32767

/* A Windows error code (GetLastError, a LSTATUS) as a DS_E... code. */
int plat_win_error(DWORD e);
/* UTF-8 -> UTF-16, malloc'd (caller frees) and NUL-terminated; NULL with *rc set (DS_EINVAL for invalid
 * UTF-8 or past PLAT_WIN_PATH_MAX, DS_ENOMEM). */
wchar_t *plat_win_wide(const char *s, int *rc);
/* UTF-16 -> UTF-8, malloc'd (caller frees) and NUL-terminated, or NULL (unpaired surrogates, no memory). */
char *plat_win_utf8(const wchar_t *w);
/* plat_win_wide for a path, with the "\\?\" prefix on long absolute drive paths (caller frees). */
wchar_t *plat_win_path(const char *path, int *rc);
/* The DACL of a file or folder, and its owner when owner is not NULL; both point into *sd, which the
 * caller frees with LocalFree (also on error, when it is not NULL). *dacl NULL: no DACL, everyone may do
 * anything. DS_ENOENT, DS_EPERM, DS_EIO. */
int plat_win_dacl(const char *path, PSID *owner, PACL *dacl, PSECURITY_DESCRIPTOR *sd);
/* The i-th entry of dacl if it applies to the object itself (not inherit-only): 1 and *ace, else 0.
 * Allowed and denied entries share ACCESS_ALLOWED_ACE's layout; read ace->Header.AceType. */
int plat_win_ace(PACL dacl, DWORD i, ACCESS_ALLOWED_ACE **ace);
/* 1 if sid is one of the n well-known SIDs in types. */
int plat_win_sid_in(PSID sid, const WELL_KNOWN_SID_TYPE *types, size_t n);

#endif
