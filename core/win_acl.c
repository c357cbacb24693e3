/* win_acl.c - folder ACLs (core/win.h): a folder's DACL set from and read as SDDL, and whether every user
 * may create files in it (the WER dump folder's check). */
#include "core/plat_win.h"
#include <aclapi.h>
#include <sddl.h>

#include "core/win.h"
#include "core/plat.h"
#include "core/ds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int win_acl_set_sddl(const char *path, const char *sddl)
{
	PSECURITY_DESCRIPTOR sd = NULL;
	BOOL present = FALSE, defaulted = FALSE;
	PACL dacl = NULL;
	wchar_t *w = NULL;
	DWORD e;
	int rc = DS_EINVAL;

	/* SDDL is ASCII (letters, SIDs, hex masks): the ANSI parser reads it as it is, and refuses anything
	 * else as a bad descriptor */
	if (!ConvertStringSecurityDescriptorToSecurityDescriptorA(sddl, SDDL_REVISION_1, &sd, NULL) ||
	    !GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted) || !present)
		goto out;
	rc = plat_mkdirs(path, 0700);
	if (rc == DS_OK)
		w = plat_win_path(path, &rc);
	if (w == NULL)
		goto out;
	e = SetNamedSecurityInfoW(w, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
				  NULL, NULL, dacl, NULL);
	rc = e == ERROR_SUCCESS ? DS_OK : plat_win_error(e);
out:
	if (sd != NULL)
		LocalFree(sd);
	free(w);
	return rc;
}

int win_acl_get_sddl(const char *path, char **sddl)
{
	PSECURITY_DESCRIPTOR sd = NULL;
	PACL dacl = NULL;
	wchar_t *str = NULL;
	int rc;

	*sddl = NULL;
	rc = plat_win_dacl(path, NULL, &dacl, &sd);
	if (rc != DS_OK)
		goto out;
	if (!ConvertSecurityDescriptorToStringSecurityDescriptorW(sd, SDDL_REVISION_1, DACL_SECURITY_INFORMATION,
								  &str, NULL)) {
		rc = DS_EIO;
		goto out;
	}
	*sddl = plat_win_utf8(str);
	rc = *sddl != NULL ? DS_OK : DS_ENOMEM;
out:
	if (str != NULL)
		LocalFree(str);
	if (sd != NULL)
		LocalFree(sd);
	return rc;
}

/* 1 if sid stands for every user: Everyone, Authenticated Users, Users, Interactive. */
static int win_acl_everyone_sid(PSID sid)
{
	static const WELL_KNOWN_SID_TYPE all[] = { WinWorldSid, WinAuthenticatedUserSid, WinBuiltinUsersSid,
						  WinInteractiveSid };

	return plat_win_sid_in(sid, all, DS_ARRAY_LEN(all));
}

int win_acl_users_can_create(const char *path, int *yes)
{
	const DWORD create = FILE_ADD_FILE | GENERIC_WRITE | GENERIC_ALL;
	PSECURITY_DESCRIPTOR sd = NULL;
	PACL dacl = NULL;
	ACCESS_ALLOWED_ACE *a; /* ACCESS_ALLOWED_ACE and ACCESS_DENIED_ACE share their layout */
	DWORD i;
	int rc, allowed, denied = 0;

	rc = plat_win_dacl(path, NULL, &dacl, &sd);
	if (rc != DS_OK)
		goto out;
	allowed = dacl == NULL; /* a NULL DACL grants everything to everyone */
	for (i = 0; dacl != NULL && i < dacl->AceCount; i++) {
		if (!plat_win_ace(dacl, i, &a) || !(a->Mask & create) || !win_acl_everyone_sid((PSID)&a->SidStart))
			continue;
		if (a->Header.AceType == ACCESS_DENIED_ACE_TYPE)
			denied = 1;
		else if (a->Header.AceType == ACCESS_ALLOWED_ACE_TYPE)
			allowed = 1;
	}
	*yes = allowed && !denied;
out:
	if (sd != NULL)
		LocalFree(sd);
	return rc;
}
