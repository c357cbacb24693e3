/* win.h - the Windows integration: registry, folder ACLs (SDDL), service control manager, event log; one
 * file per concern (win_reg.c, win_acl.c, win_svc.c, win_evlog.c). Windows only: the Linux build leaves
 * these files out (Makefile's WIN_ONLY), and outside core/ only *_win.c files include this header; the
 * portable calls are in plat.h. Used by the Windows service (service/main_win.c), lib/svcctl_win.c and
 * lib/wer_win.c.
 * Registry keys are written "HKLM\path\to\key" (also "HKCU\..."), always in the 64-bit view; names and
 * strings are UTF-8. Errors are DS_E... codes; all functions are thread-safe. */
#ifndef DS_WIN_H
#define DS_WIN_H

#include <stddef.h>
#include <stdint.h>

/* ---- Registry (win_reg.c) ---- */

enum win_reg_type {
	WIN_REG_NONE = 0, WIN_REG_SZ = 1, WIN_REG_EXPAND_SZ = 2, WIN_REG_BINARY = 3,
	WIN_REG_DWORD = 4, WIN_REG_MULTI_SZ = 7, WIN_REG_QWORD = 11
};
#define WIN_REG_MAX_DATA (1024 * 1024)

/* Reads a value as the registry holds it: its REG_* type and raw bytes (strings are UTF-16LE with
 * their terminator), in a malloc'd buffer the caller frees (non-NULL even when *len is 0). name NULL
 * or "" is the key's default value. DS_ENOENT when the key or the value is absent, DS_ETOOBIG past
 * WIN_REG_MAX_DATA, DS_EPERM. */
int win_reg_get(const char *key, const char *name, uint32_t *type, unsigned char **data, size_t *len);
/* Writes a value from raw bytes, creating the key and its parents. DS_EPERM, DS_EIO. */
int win_reg_set(const char *key, const char *name, uint32_t type, const void *data, size_t len);
/* A REG_SZ or REG_EXPAND_SZ value as UTF-8 (malloc'd, caller frees) and its type (type may be NULL).
 * DS_EINVAL if the value has another type. */
int win_reg_get_str(const char *key, const char *name, uint32_t *type, char **out);
/* Writes a UTF-8 string as type WIN_REG_SZ or WIN_REG_EXPAND_SZ. */
int win_reg_set_str(const char *key, const char *name, uint32_t type, const char *s);
/* A REG_DWORD value (DS_EINVAL if the value has another type), and writing one. */
int win_reg_get_dword(const char *key, const char *name, uint32_t *out);
int win_reg_set_dword(const char *key, const char *name, uint32_t v);
/* Deletes a value. DS_ENOENT if it (or its key) is already absent. */
int win_reg_delete(const char *key, const char *name);
/* 1 if the key exists, 0 if not (or on error). */
int win_reg_key_exists(const char *key);
/* Deletes a key that has no values and no subkeys; DS_EEXIST when it is not empty, DS_ENOENT when
 * absent. Never deletes anything it did not check. */
int win_reg_delete_key_if_empty(const char *key);
/* Names of a key's subkeys, like plat_dir_list (free with plat_dir_list_free); at most max. */
int win_reg_subkeys(const char *key, size_t max, char ***names, size_t *n);

/* s with %VARIABLE% references expanded from this process's environment, as a REG_EXPAND_SZ value is
 * read (malloc'd, caller frees), or NULL. */
char *win_reg_expand(const char *s);
/* ---- Folder ACLs (win_acl.c) ---- */

/* Creates the folder (and parents) when missing and replaces its DACL with the one in an SDDL
 * string ("D:P(...)"), protected from inheriting its parent's entries. DS_EINVAL (bad SDDL),
 * DS_EPERM, DS_EIO. */
int win_acl_set_sddl(const char *path, const char *sddl);
/* The folder's DACL as an SDDL string (malloc'd, caller frees). DS_ENOENT, DS_EPERM, DS_EIO. */
int win_acl_get_sddl(const char *path, char **sddl);
/* *yes = 1 when the folder's DACL lets every user (Everyone, Authenticated Users or Users) create
 * files in it and no deny entry for them takes it away. DS_ENOENT, DS_EPERM, DS_EIO. */
int win_acl_users_can_create(const char *path, int *yes);

/* ---- Service control manager (win_svc.c) ---- */

/* Service states: the SCM's SERVICE_* numbers (WIN_SVC_ABSENT when not installed). */
enum win_svc_state {
	WIN_SVC_ABSENT = 0, WIN_SVC_STOPPED = 1, WIN_SVC_START_PENDING = 2, WIN_SVC_STOP_PENDING = 3,
	WIN_SVC_RUNNING = 4, WIN_SVC_CONTINUE_PENDING = 5, WIN_SVC_PAUSE_PENDING = 6, WIN_SVC_PAUSED = 7
};
struct win_svc_spec {
	const char *name;         /* "dumpscout" */
	const char *display;      /* shown in services.msc */
	const char *description;
	const char *cmdline;      /* the full command line, the exe quoted */
	uint32_t restart_delay_ms; /* failure actions: restart after this long (three times) */
};
/* Registers a service that starts automatically as LocalSystem, with its description, failure
 * actions (restart) and pre-shutdown notification. DS_EEXIST if one of that name exists, DS_EPERM
 * without administrator rights. */
int win_svc_install(const struct win_svc_spec *spec);
/* Sets an installed service's description, failure actions (restart after restart_delay_ms, three
 * times, the count reset after a day; also on a non-zero exit) and a 30 s pre-shutdown timeout
 * (win_svc_install does this too). The service may call it on itself at start: an MSI cannot. */
int win_svc_configure(const struct win_svc_spec *spec);
/* Marks the service for deletion (it goes once stopped and its handles are closed). DS_ENOENT. */
int win_svc_uninstall(const char *name);
/* Asks the SCM to start / to stop it; neither waits (poll win_svc_state). DS_EEXIST: already
 * running (start) or not running (stop). DS_ENOENT, DS_EPERM. */
int win_svc_start(const char *name);
int win_svc_stop(const char *name);
/* The current state (WIN_SVC_*, WIN_SVC_ABSENT when not installed) and process id (0 if none). */
int win_svc_state(const char *name, int *state, int *pid);

/* ---- Event log (win_evlog.c) ---- */

/* Registers `source` under the Application event log with message_file (the exe whose message table
 * holds event 1, "%1"), so the Event Viewer shows the text. Needs administrator rights. */
int win_evlog_register(const char *source, const char *message_file);
int win_evlog_unregister(const char *source);
/* Writes one Application event (ReportEventW, event id 1) with msg as its only string; level is 0
 * error, 1 warning, anything else information. The source handle is opened on first use and kept.
 * Thread-safe. */
int win_evlog_write(const char *source, int level, const char *msg);

#endif
