# windows_lib.sh - helpers of the Windows service tests under Wine (test_windows_service.sh,
# test_windows_service_dotnet.sh). Source it after tests/lib.sh, with tmp (a scratch folder) and LD (the
# LocalDumps key) set.

# w CMD...: a Wine command with its output's CRs removed; the exit status is the command's.
w() {
	local rc
	timeout -k 5 120 wine "$@" >"$tmp/w.raw" 2>"$tmp/w.err"
	rc=$?
	tr -d '\r' <"$tmp/w.raw"
	return $rc
}
svc_state() {
	w sc query dumpscout | awk '$1 == "STATE" { print $4; exit }'
}
# wait_state STATE SECONDS
wait_state() {
	local i
	for ((i = 0; i < $2 * 4; i++)); do
		[ "$(svc_state)" = "$1" ] && return 0
		sleep 0.25
	done
	return 1
}
# The LocalDumps tree as sorted "key|name|type|data" lines (Wine lists values in no fixed order).
ld_snapshot() {
	w reg query "$LD" /s | awk '
		/^HKEY_/ { key = $0; next }
		NF >= 2 && $2 ~ /^REG_/ { name = $1; type = $2; sub(/^[ \t]*[^ \t]+[ \t]+[^ \t]+[ \t]*/, ""); print key "|" name "|" type "|" $0 }
		/^HKEY_/ || NF == 0 { next }' | sort
}

