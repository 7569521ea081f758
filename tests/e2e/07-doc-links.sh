# Every relative link in README.md and docs/*.md resolves: the file exists,
# and a #fragment names a heading of that file by GitHub's anchor rules
# (lowercase, punctuation dropped, spaces to '-', -1, -2 ... for repeats).
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is needed"
python3 - "$SB_ROOT" >"$TMP/out" 2>&1 <<'PY'
import os, re, sys

root = sys.argv[1]
files = ["README.md"] + sorted("docs/" + f for f in os.listdir(os.path.join(root, "docs"))
                               if f.endswith(".md"))

def prose(path):
    """Lines outside fenced code blocks, with inline code spans blanked."""
    out, fence = [], None
    for n, line in enumerate(open(os.path.join(root, path), encoding="utf-8"), 1):
        m = re.match(r"^\s*(```+|~~~+)", line)
        if m:
            if fence is None:
                fence = m.group(1)[0] * 3
            elif m.group(1).startswith(fence):
                fence = None
            continue
        if fence is None:
            out.append((n, line.rstrip("\n")))
    return out

def slug(text):
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links: their text
    text = re.sub(r"<[^>]+>", "", text)                      # inline HTML
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)                      # punctuation dropped
    return text.replace(" ", "-")

anchors = {}
def anchors_of(path):
    if path not in anchors:
        seen, out = {}, set()
        for _, line in prose(path):
            m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
            if not m:
                continue
            a = slug(m.group(2))
            k = seen.get(a, 0)
            seen[a] = k + 1
            out.add(a if k == 0 else "%s-%d" % (a, k))
        anchors[path] = out
    return anchors[path]

link = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
bad = checked = 0
for f in files:
    for n, line in prose(f):
        line = re.sub(r"(`+)(.+?)\1", lambda m: " " * len(m.group(0)), line)
        for m in link.finditer(line):
            target = m.group(1)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
                continue  # http:, https:, mailto: ...
            checked += 1
            path, _, frag = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(f), path)) if path else f
            full = os.path.join(root, dest)
            if not os.path.exists(full):
                print("%s:%d: %s: no such file %s" % (f, n, target, dest))
                bad += 1
            elif frag and dest.endswith(".md") and frag not in anchors_of(dest):
                print("%s:%d: %s: no heading #%s in %s" % (f, n, target, frag, dest))
                bad += 1
print("%d links checked, %d broken" % (checked, bad))
sys.exit(1 if bad else 0)
PY
rc=$?
cat "$TMP/out"
[ $rc -eq 0 ] || fail "broken links in the docs (above)"
grep -q '^[1-9][0-9]* links checked' "$TMP/out" || fail "no links found: is the checker reading the docs?"
ok "every relative link in README.md and docs/*.md resolves"
