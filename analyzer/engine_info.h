/* engine_info.h - what an installed heap engine (dumpscout-heap) is, read from the files beside it without
 * running it: its version, the ClrMD version it carries and the .NET runtime it was published for (and
 * whether that runtime ships with it), from the NAME.deps.json that `dotnet publish` writes beside the
 * program. For `dumpscout wer status` and `dumpscout status`. Pure: file reading through core/plat only.
 * Reentrant. */
#ifndef DS_ENGINE_INFO_H
#define DS_ENGINE_INFO_H

#include "core/ds.h"

struct engine_info {
	char version[32];    /* "1.0.0", or "" when the deps file does not say */
	char clrmd[32];      /* Microsoft.Diagnostics.Runtime's version, or "" */
	char target[64];     /* the runtime target, e.g. ".NETCoreApp,Version=v8.0/win-x64", or "" */
	char runtime[32];    /* the runtime pack's version when self-contained ("8.0.31"), else "" */
	int self_contained;  /* the .NET runtime is in the engine's folder: no .NET install needed */
};

/* Fills *ei for the engine program at engine_path (e.g. "C:\...\engine\dumpscout-heap.exe"), from
 * dumpscout-heap.deps.json in the same folder. Values are printable ASCII (anything else in the file
 * becomes '?'), truncated to the fields' sizes. DS_ENOENT when there is no deps file, DS_ECORRUPT when it
 * is not the JSON a publish writes, DS_ETOOBIG over 4 MiB, DS_ENOMEM. On error *ei is zeroed. */
int engine_info_read(const char *engine_path, struct engine_info *ei);

#endif
