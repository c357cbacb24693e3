#!/usr/bin/env bash
# test_report_html.sh - the HTML report in a real headless Chromium: a generated database (bench/gen_db.py)
# with hostile names planted in it (a bucket title and an application that carry <script>, <img onerror>
# and a style-breaking </style>), rendered with `dumpscout report --format html`, then opened by
# Chromium from a file:// URL: --dump-dom must show the page's text with the hostile names as inert
# text (no script or img element, the title unchanged), and a screenshot is kept in
# build/test-artifacts/report.png for a person to look at. SKIP when chromium cannot start.
set -u
cd "$(dirname "$0")/../.."
source tests/lib.sh

ART=$BUILD/test-artifacts
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ ! -x "$DS" ]; then skip report_html "no $DS (make)"; exit 0; fi
if [ -z "$CHROME" ]; then skip report_html "no chromium (make deps installs Debian's chromium)"; exit 0; fi
scratch
T=$SCRATCH
mkdir -p "$ART"
python3 bench/gen_db.py "$T/r.db" --dumps 4000 --buckets 120 --apps 12 --days 20 --seed 3 2>/dev/null ||
	{ fail report_html_db "gen_db.py failed"; exit 0; }
# plant hostile text where the report shows it: the top bucket's title and the busiest application
sqlite3 "$T/r.db" "UPDATE buckets SET title = '<script>document.title=\"pwned\"</script><img src=x onerror=alert(1)></style><b>x' WHERE id = 1;
  UPDATE dumps SET app = '<script>alert(2)</script>evil.exe' WHERE app = 'App000.Service';"
OUT=$ART/report.html
if "$DS" report --since 7d --format html -o "$OUT" --db "$T/r.db"; then pass report_html_written; else fail report_html_written "exit $?"; exit 0; fi
# the file itself: one document, nothing to fetch, nothing to run
if grep -qiE '<script|<img|<link|<iframe|<object|<embed|https?://|url\(|@import' "$OUT"; then
	fail report_html_self_contained "$(grep -oiE '.{30}(<script|<img|<link|<iframe|src=|https?://|url\(|@import).{30}' "$OUT" | head -3)"
else
	pass report_html_self_contained
fi
chrome() {
	timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
		--disable-sync --no-first-run --user-data-dir="$T/profile" "$@" 2>>"$T/chrome.log"
}
URL="file://$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")"
if ! chrome --dump-dom "$URL" >"$T/dom.html" || [ ! -s "$T/dom.html" ]; then
	skip report_html_chromium "chromium could not start: $(tail -3 "$T/chrome.log" | tr '\n' ' ')"
	exit 0
fi
dom=$(cat "$T/dom.html")
case $dom in *"<title>dumpscout report</title>"*) pass report_html_title_intact ;; *) fail report_html_title_intact "$(printf '%s' "$dom" | grep -o '<title>[^<]*' | head -1)" ;; esac
if printf '%s' "$dom" | grep -qiE '<script|<img'; then fail report_html_inert "a script or img element was created"; else pass report_html_inert; fi
case $dom in *'&lt;script&gt;document.title="pwned"&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&lt;/style&gt;&lt;b&gt;x'*) pass report_html_hostile_shown_as_text ;;
	*) fail report_html_hostile_shown_as_text "the planted title is not shown as text" ;; esac
case $dom in *'&lt;script&gt;alert(2)&lt;/script&gt;evil.exe'*) pass report_html_hostile_app_as_text ;; *) fail report_html_hostile_app_as_text "missing" ;; esac
for text in "Dumps per day (UTC)" "New buckets" "Buckets that grew" "Top crash buckets" "Top culprits keeping AssemblyLoadContexts alive" \
	"Applications" "MessagePack.MessagePackSerializerOptions.Options" "MessagePack's dynamic assembly / options cache"; do
	case $dom in *"$text"*) pass "report_html_has_${text%% *}_${#text}" ;; *) fail "report_html_has_${text%% *}_${#text}" "no '$text' in the page" ;; esac
done
days=$(printf '%s' "$dom" | grep -c 'class="bar" style="width:')
if [ "$days" -ge 8 ]; then pass report_html_bars; else fail report_html_bars "$days bars"; fi
rm -f "$ART/report.png"
chrome --screenshot="$ART/report.png" --window-size=1200,1600 "$URL" >/dev/null
if [ -s "$ART/report.png" ] && [ "$(head -c 8 "$ART/report.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]; then
	pass report_html_screenshot
	echo "    (screenshot: $ART/report.png, page: $OUT)"
else
	fail report_html_screenshot "no PNG at $ART/report.png: $(tail -3 "$T/chrome.log" | tr '\n' ' ')"
fi
