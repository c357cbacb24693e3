/* mailcmd.h - mail commands run inside dumpscoutd for the CLI: the test message and an immediate outbox
 * delivery. They print to stdout/stderr and return exit codes (0 ok, 1 delivery failed, 2 bad config).
 * Not for use inside the running service's loop (they block on the SMTP server). */
#ifndef DS_MAILCMD_H
#define DS_MAILCMD_H

/* Sends a test message to the config's recipients now, bypassing the outbox, and prints the server's
 * answer. */
int mailcmd_test(const char *cfgpath);
/* Delivers what is due in the outbox of the database (dbpath, or the config's db when NULL) now. */
int mailcmd_send_outbox(const char *cfgpath, const char *dbpath);

#endif
