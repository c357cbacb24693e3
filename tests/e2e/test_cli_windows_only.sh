#!/usr/bin/env bash
# test_cli_windows_only.sh - the Windows-only commands on Linux: `dumpscout service` and `dumpscout wer`
# check their arguments and print their usage like any command (the shared cmd_service.c / cmd_wer.c),
# then say that the action is a Windows command and exit 2 (cmd_service_posix.c / cmd_wer_posix.c),
# naming what to use on Linux instead.
cd "$(dirname "$0")/../.." && source tests/lib.sh

out=$("$DS" service install 2>&1); rc=$?
expect_eq service_posix_exit2 "$rc" "2"
case $out in
*"'service install' is a Windows command"*"systemd runs dumpscoutd"*) pass service_posix_says_windows ;;
*) fail service_posix_says_windows "$out" ;;
esac
out=$("$DS" wer status --json 2>&1); rc=$?
expect_eq wer_posix_exit2 "$rc" "2"
case $out in
*"'wer status' is a Windows command"*"dumpscout collect"*) pass wer_posix_says_windows ;;
*) fail wer_posix_says_windows "$out" ;;
esac

# The arguments are still checked first, on every OS: an unknown action is a usage error.
out=$("$DS" service reboot 2>&1); rc=$?
case "$rc:$out" in 2:usage:*) pass service_bad_action_usage ;; *) fail service_bad_action_usage "$rc $out" ;; esac
out=$("$DS" wer apply --bogus 2>&1); rc=$?
case "$rc:$out" in 2:*"unexpected argument '--bogus'"*) pass wer_bad_option ;; *) fail wer_bad_option "$rc $out" ;; esac
out=$("$DS" wer --help 2>&1); rc=$?
case "$rc:$out" in 0:usage:*) pass wer_help ;; *) fail wer_help "$rc $out" ;; esac
