#!/usr/bin/env bash
# build_deps.sh - prepares everything the Windows cross-build needs: the Debian packages of the
# mingw-w64 toolchain and Wine, the Debian source packages of libuv, cJSON, SQLite, curl, OpenSSL and
# PostgreSQL, and static x86_64-w64-mingw32 builds of libuv, SQLite, cJSON, curl, OpenSSL's libssl and
# libcrypto, and libpq in build/win/prefix/{lib,include}.
# It does not compile dumpscout itself (mk/windows.mk does). Idempotent: each finished step leaves a
# stamp in build/win/stamps/ and is skipped next time; delete a stamp (or build/win) to redo a step.
# Step times are appended to build/win/timings.txt. Needs root (or sudo) only for apt-get.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

WIN=${WIN_BUILD:-build/win}
case $WIN in /*) ;; *) WIN=$ROOT/$WIN ;; esac
TRIPLE=x86_64-w64-mingw32
JOBS=${JOBS:-2}
SRC=$WIN/src
WORK=$WIN/work
PREFIX=$WIN/prefix
STAMPS=$WIN/stamps
TIMES=$WIN/timings.txt
TOOLCHAIN=$ROOT/installer/windows/mingw64.cmake
SRC_LIST=/etc/apt/sources.list.d/dumpscout-deb-src.sources

# What the cross-build, the Wine tests and the MSI need. dpkg-dev gives `apt-get source` its
# dpkg-source; tcl gives tclsh, which SQLite's amalgamation generator runs.
WIN_PKGS=(
	gcc-mingw-w64-x86-64-win32 wine64 wine msitools wixl cmake ninja-build tcl
	make dpkg-dev xz-utils ca-certificates
)
# The Debian source packages, by source package name. OpenSSL and PostgreSQL (for libpq) are fetched
# by a later step of their own, so a cache made before they were added keeps its other steps.
SRC_PKGS=(libuv1 cjson sqlite3 curl)
PQ_SRC_PKGS=(openssl postgresql-15)

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

mkdir -p "$SRC" "$WORK" "$PREFIX/lib" "$PREFIX/include" "$STAMPS"

log() { echo "windows-deps: $*"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# step NAME FUNCTION: runs FUNCTION once (until its stamp is removed) and records how long it took.
step() {
	local name=$1 fn=$2 t0 t1
	if [ -f "$STAMPS/$name" ]; then
		return 0
	fi
	log "$name..."
	t0=$(date +%s.%N)
	"$fn"
	t1=$(date +%s.%N)
	printf '%s %s %s s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$name" "$(elapsed "$t0" "$t1")" >>"$TIMES"
	touch "$STAMPS/$name"
	log "$name done in $(elapsed "$t0" "$t1") s"
}

# The source folder apt-get source unpacked for a package (NAME-VERSION), or nothing.
src_dir() {
	find "$SRC" -mindepth 1 -maxdepth 1 -type d -name "$1-[0-9]*" | sort | tail -n 1
}

do_packages() {
	local missing=() p
	for p in "${WIN_PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	if [ "${#missing[@]}" -gt 0 ]; then
		log "installing Debian packages: ${missing[*]}"
		$SUDO apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
	fi
}

# A deb-src entry in a file of our own, copied from the system's deb entries (never edits them).
do_deb_src() {
	local tmp
	if [ ! -f "$SRC_LIST" ]; then
		tmp=$(mktemp)
		if [ -f /etc/apt/sources.list.d/debian.sources ]; then
			sed -e 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources >"$tmp"
		else
			# Older layout: one-line entries in sources.list; turn its "deb" lines into deb-src.
			sed -n -e 's/^deb \(.*\)/deb-src \1/p' /etc/apt/sources.list >"$tmp"
			SRC_LIST=${SRC_LIST%.sources}.list
		fi
		log "adding $SRC_LIST"
		$SUDO install -m 644 "$tmp" "$SRC_LIST"
		rm -f "$tmp"
	fi
	if ! apt-cache showsrc "${SRC_PKGS[0]}" 2>/dev/null | grep -q '^Package:'; then
		$SUDO apt-get update -qq
	fi
}

do_sources() {
	local need=() p
	for p in "${SRC_PKGS[@]}"; do
		[ -n "$(src_dir "$p")" ] || need+=("$p")
	done
	if [ "${#need[@]}" -gt 0 ]; then
		# apt-get source downloads, checks the signatures and applies Debian's patches.
		(cd "$SRC" && apt-get source -qq -o APT::Sandbox::User=root "${need[@]}")
	fi
	for p in "${SRC_PKGS[@]}"; do
		[ -n "$(src_dir "$p")" ] || { log "apt-get source $p gave no folder in $SRC" >&2; exit 1; }
	done
}

# apt-get source, trying the versions the index lists from the newest down: a security mirror can list
# a version whose files it does not (or no longer) serve.
fetch_source() {
	local p=$1 v u
	for v in $(apt-cache showsrc "$p" | sed -n 's/^Version: //p' | sort -rV | uniq); do
		if (cd "$SRC" && apt-get source -qq -o APT::Sandbox::User=root "$p=$v" >/dev/null 2>&1); then
			return 0
		fi
		log "apt-get source $p=$v failed; trying an older version"
		# what it did fetch of that version (the upstream tarball, say) is of no use now
		u=${v#*:}
		u=${u%-*}
		rm -f "$SRC/${p}_${u}."* "$SRC/${p}_${u}-"*
	done
	log "no version of the source package $p could be fetched" >&2
	exit 1
}

do_sources_pq() {
	local p
	for p in "${PQ_SRC_PKGS[@]}"; do
		[ -n "$(src_dir "$p")" ] || fetch_source "$p"
	done
}

do_libuv() {
	local s b lib
	s=$(src_dir libuv1)
	b=$WORK/libuv
	cmake -S "$s" -B "$b" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$TOOLCHAIN" -DCMAKE_BUILD_TYPE=Release \
		-DLIBUV_BUILD_TESTS=OFF -DLIBUV_BUILD_BENCH=OFF >"$b.log" 2>&1 || { tail -n 30 "$b.log"; exit 1; }
	ninja -C "$b" -j "$JOBS" uv_a >>"$b.log" 2>&1 || { tail -n 30 "$b.log"; exit 1; }
	lib=$(find "$b" -maxdepth 1 -name '*.a' | head -n 1)
	[ -n "$lib" ] || { log "libuv: no static library in $b" >&2; exit 1; }
	cp "$lib" "$PREFIX/lib/libuv.a"
	rm -rf "$PREFIX/include/uv"
	cp -r "$s/include/uv.h" "$s/include/uv" "$PREFIX/include/"
}

# SQLite: the amalgamation is generated natively (it needs tclsh and host tools), then compiled
# once for Windows; both halves are cached.
do_sqlite_amalgamation() {
	local s b
	s=$(src_dir sqlite3)
	b=$WORK/sqlite-native
	mkdir -p "$b"
	(cd "$b" && "$s/configure" --disable-tcl --disable-readline >configure.log 2>&1) ||
		{ tail -n 30 "$b/configure.log"; exit 1; }
	make -C "$b" -j "$JOBS" sqlite3.c >"$b/make.log" 2>&1 || { tail -n 30 "$b/make.log"; exit 1; }
}

do_sqlite() {
	local b=$WORK/sqlite-native o=$WORK/sqlite-win
	mkdir -p "$o"
	$TRIPLE-gcc -O2 -DSQLITE_THREADSAFE=1 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_DEFAULT_FOREIGN_KEYS=1 \
		-DSQLITE_ENABLE_FTS5 -c "$b/sqlite3.c" -o "$o/sqlite3.o"
	rm -f "$PREFIX/lib/libsqlite3.a"
	$TRIPLE-ar rcs "$PREFIX/lib/libsqlite3.a" "$o/sqlite3.o"
	cp "$b/sqlite3.h" "$b/sqlite3ext.h" "$PREFIX/include/"
}

# cJSON is one file. CJSON_HIDE_SYMBOLS keeps its functions out of the exe's export table; every
# file that includes cJSON.h must define it too (mk/windows.mk passes it to all of them).
do_cjson() {
	local s o=$WORK/cjson
	s=$(src_dir cjson)
	mkdir -p "$o" "$PREFIX/include/cjson"
	$TRIPLE-gcc -O2 -DCJSON_HIDE_SYMBOLS -c "$s/cJSON.c" -o "$o/cJSON.o"
	rm -f "$PREFIX/lib/libcjson.a"
	$TRIPLE-ar rcs "$PREFIX/lib/libcjson.a" "$o/cJSON.o"
	cp "$s/cJSON.h" "$PREFIX/include/cjson/cJSON.h"
}

# curl with Schannel (the Windows TLS stack) and only what sending mail over SMTP needs. HTTP stays
# enabled although SMTP does not use it: Debian's backported fix for CVE-2023-38039 calls
# Curl_bump_headersize (defined in http.c) from pingpong.c, so a --disable-http libcurl does not link.
do_curl() {
	local s b=$WORK/curl
	s=$(src_dir curl)
	mkdir -p "$b"
	(cd "$b" && "$s/configure" --host=$TRIPLE --prefix="$PREFIX" --enable-static --disable-shared \
		--with-schannel --without-openssl --without-gnutls --disable-pthreads \
		--disable-dict --disable-file --disable-ftp --disable-gopher --disable-imap \
		--disable-ldap --disable-ldaps --disable-mqtt --disable-pop3 --disable-rtsp --disable-smb \
		--disable-telnet --disable-tftp --disable-proxy --disable-cookies --disable-alt-svc \
		--disable-hsts --disable-doh --disable-netrc --disable-mime --disable-manual \
		--disable-unix-sockets --disable-websockets --disable-progress-meter \
		--without-zlib --without-brotli --without-zstd --without-libpsl --without-libidn2 \
		--without-nghttp2 --without-nghttp3 --without-ngtcp2 --without-librtmp --without-libssh2 \
		--without-libssh --without-libgsasl --without-ca-bundle --without-ca-path \
		>configure.log 2>&1) || { tail -n 40 "$b/configure.log"; exit 1; }
	make -C "$b/lib" -j "$JOBS" >"$b/make.log" 2>&1 || { tail -n 40 "$b/make.log"; exit 1; }
	make -C "$b/lib" install >>"$b/make.log" 2>&1
	make -C "$b/include" install >>"$b/make.log" 2>&1
	cp "$b/libcurl.pc" "$PREFIX/lib/" 2>/dev/null || true
}

# OpenSSL for libpq's TLS (libpq supports no other TLS library): static libssl and libcrypto only. No
# tests, engines, provider modules or legacy ciphers, and only the build_libs target: OpenSSL 3.0 has no
# no-docs or no-apps option, but build_libs makes neither the manual pages nor the openssl program.
# The folders compiled in (where openssl.cnf, engines and provider modules are looked for) are set on
# make's command line to one under C:/Program Files, which only administrators can write: OpenSSL 3.0's
# defaults for mingw are Unix paths (/usr/local/ssl), which Windows reads as C:\usr\local\ssl, a
# folder any user may create, and Configure refuses a C:/ path for --openssldir.
OPENSSL_WIN_DIR="C:/Program Files/dumpscout/ssl"
do_openssl() {
	local s b=$WORK/openssl
	s=$(src_dir openssl)
	rm -rf "$b" && mkdir -p "$b"
	(cd "$b" && perl "$s/Configure" mingw64 --cross-compile-prefix=$TRIPLE- \
		no-shared no-tests no-module no-engine no-dso no-legacy no-comp \
		no-ssl3 no-dtls no-srp no-psk no-nextprotoneg no-ui-console no-async no-capieng \
		no-idea no-rc2 no-rc4 no-rc5 no-md4 no-mdc2 no-whirlpool no-seed no-bf no-cast no-camellia \
		no-aria no-sm2 no-sm3 no-sm4 no-siphash no-ocb no-scrypt no-cms no-ts no-ct no-srtp \
		>configure.log 2>&1) || { tail -n 30 "$b/configure.log"; exit 1; }
	make -C "$b" -j "$JOBS" OPENSSLDIR="$OPENSSL_WIN_DIR" ENGINESDIR="$OPENSSL_WIN_DIR/engines" \
		MODULESDIR="$OPENSSL_WIN_DIR/modules" build_libs >"$b/make.log" 2>&1 || { tail -n 40 "$b/make.log"; exit 1; }
	cp "$b/libssl.a" "$b/libcrypto.a" "$PREFIX/lib/"
	rm -rf "$PREFIX/include/openssl"
	mkdir -p "$PREFIX/include/openssl"
	cp "$s"/include/openssl/*.h "$b"/include/openssl/*.h "$PREFIX/include/openssl/"
}

# libpq alone: PostgreSQL's configure, then only src/interfaces/libpq and the parts of src/port and
# src/common it needs, as a static library. Its objects and the two helper archives
# (libpgcommon_shlib, libpgport_shlib: the variants compiled for client libraries) go to the prefix.
do_libpq() {
	local s b=$WORK/libpq
	s=$(src_dir postgresql-15)
	rm -rf "$b" && mkdir -p "$b"
	(cd "$b" && "$s/configure" --host=$TRIPLE --prefix="$PREFIX" --with-ssl=openssl \
		--without-readline --without-zlib --without-icu --without-ldap --without-gssapi \
		--without-lz4 --without-zstd --disable-nls --disable-rpath \
		CPPFLAGS="-I$PREFIX/include" LDFLAGS="-L$PREFIX/lib" \
		LIBS="-lcrypt32 -lws2_32 -lgdi32 -luser32 -ladvapi32" \
		>configure.log 2>&1) || { tail -n 30 "$b/configure.log"; exit 1; }
	# Only what libpq links: the headers generated from the backend's lists, the client ("_shlib")
	# variants of src/port and src/common, and libpq's objects (its own targets would also build the
	# server variants of both and link a DLL; objs.mk names just the objects, $(OBJS) of its Makefile).
	printf 'ds-objs: $(OBJS)\n' >"$b/objs.mk"
	# (generated-headers directly: PostgreSQL's submake-generated-headers is a no-op below the top
	# make level, and this script runs under make test / make windows)
	{ make -C "$b/src/backend" generated-headers &&
		make -C "$b/src/port" -j "$JOBS" libpgport_shlib.a &&
		make -C "$b/src/common" -j "$JOBS" libpgcommon_shlib.a &&
		make -C "$b/src/interfaces/libpq" -j "$JOBS" -o submake-libpgport -f Makefile -f "$b/objs.mk" ds-objs
	} >"$b/make.log" 2>&1 || { tail -n 40 "$b/make.log"; exit 1; }
	# On Windows PostgreSQL's libpq.a is the DLL's import library: the static archive is made here from
	# libpq's objects (win32ver.o, the DLL's version resource, left out).
	rm -f "$PREFIX/lib/libpq.a"
	$TRIPLE-ar rcs "$PREFIX/lib/libpq.a" \
		$(find "$b/src/interfaces/libpq" -maxdepth 1 -name '*.o' ! -name win32ver.o | sort)
	cp "$b/src/common/libpgcommon_shlib.a" "$b/src/port/libpgport_shlib.a" "$PREFIX/lib/"
	cp "$s/src/interfaces/libpq/libpq-fe.h" "$s/src/include/postgres_ext.h" \
		"$b/src/include/pg_config_ext.h" "$PREFIX/include/"
}

t_all0=$(date +%s.%N)
do_packages
step deb-src do_deb_src
step sources do_sources
step libuv do_libuv
step sqlite-amalgamation do_sqlite_amalgamation
step sqlite do_sqlite
step cjson do_cjson
step curl do_curl
step sources-pq do_sources_pq
step openssl do_openssl
step libpq do_libpq
t_all1=$(date +%s.%N)
log "ok ($(elapsed "$t_all0" "$t_all1") s)"
