# windows_lib.sh - helpers of the Windows service tests under Wine (test_windows_service.sh,
# test_windows_service_dotnet.sh). Source it after tests/lib.sh, with tmp (a scratch folder), LD (the
# LocalDumps key), SVCKEY (the service's key), MSI and PD (the service's ProgramData folder) set.

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

# A clean slate: a service left by an earlier run uninstalled, its ProgramData folder and the whole
# LocalDumps key removed (the tests then write the "before" state the uninstall must restore).
clean_slate() {
	if w reg query "$SVCKEY" >/dev/null 2>&1; then
		w msiexec /x "$MSI" /qn >/dev/null 2>&1 || true
		w sc stop dumpscout >/dev/null 2>&1 || true
		w sc delete dumpscout >/dev/null 2>&1 || true
	fi
	rm -rf "$PD"
	w reg delete "$LD" /f >/dev/null 2>&1 || true
}
