/* wer.h - Windows Error Reporting's LocalDumps key, as the Windows service and `dumpscout wer` manage it:
 * apply the "wer" section of the configuration (saving what was there first), revert to exactly what
 * was there, and report what would silently stop dumps from being collected. Windows only (wer_win.c);
 * the registry is reached through win_reg_* (core/win.h). It does not watch or read dumps. */
#ifndef DS_WER_H
#define DS_WER_H

#include "config.h"

#include <stdio.h>

#define WER_LOCALDUMPS_KEY "HKLM\\SOFTWARE\\Microsoft\\Windows\\Windows Error Reporting\\LocalDumps"
#define WER_AEDEBUG_KEY "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\AeDebug"
/* The file, in the data folder, that holds the values LocalDumps had before dumpscout's first change. */
#define WER_SAVED_FILE "wer-saved.json"
#define WER_SAVED_MAX (4 * 1024 * 1024)

/* Writes the LocalDumps values the configuration asks for: DumpFolder (REG_EXPAND_SZ), DumpCount,
 * DumpType and, for type 0, CustomDumpFlags (REG_DWORD), globally and under one subkey per
 * application in wer.applications. Before changing any value or creating any key not already
 * recorded in saved_path, records its previous state there (type and bytes, or "absent") and writes
 * the file (atomically) first. Lines saying what changed go to out (may be NULL). Errors: DS_EPERM
 * (not an administrator: e->msg says so), DS_ECORRUPT (saved_path is damaged: nothing is changed),
 * DS_EIO, DS_ENOMEM, DS_EUNSUPPORTED (not Windows). Not thread-safe (one caller at a time). */
int wer_apply(const struct config *cfg, const char *saved_path, FILE *out, struct ds_err *e);

/* Restores every value and key recorded in saved_path exactly (deleting the ones that were absent,
 * and the keys dumpscout created once they are empty), then removes the file. Without the file there
 * is nothing to restore: DS_OK and *reverted = 0. A failure leaves the file for the next try. */
int wer_revert(const char *saved_path, FILE *out, int *reverted, struct ds_err *e);

/* Prints the LocalDumps values (global and per application) with their types, the dump folder (its
 * ACL, whether every user may create files there, whether the service watches it), the AeDebug
 * debugger and whether a SOS engine is available, then one "warning:" line per problem that would
 * stop dumps from being collected or analysed. json: one JSON object instead. *warnings gets the count.
 * Returns DS_OK or DS_ENOMEM/DS_EUNSUPPORTED. */
int wer_status(const struct config *cfg, const char *saved_path, FILE *out, int json, int *warnings);

/* The dump folder WER is told to use: wer.dump_folder, else the first dump folder, with '\' separators
 * (malloc'd, caller frees), or NULL without memory. Portable (no OS call). */
char *wer_dump_folder(const struct config *cfg);

#endif
