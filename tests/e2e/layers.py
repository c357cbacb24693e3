#!/usr/bin/env python3
"""layers.py ROOT - checks the include graph of the C sources under ROOT (core/, analyzer/, lib/,
service/, cli/) against the layering of docs/architecture.md: core/ includes only core/, analyzer/ core/
and analyzer/, lib/ those and lib/, and each program folder (service/, cli/) the layers below it and
itself, never the other program's. Also: no header includes itself through others (an include cycle),
and no two modules use each other: a module is a .c file with the header of the same name (config.c and
config.h), and a module that includes another's header calls or uses it, so a loop of such includes is
a loop of calls (config.c -> mail.h with mail.c -> config.h was one). Prints one line per violation;
prints nothing when the graph is clean."""
import os
import re
import sys

ALLOWED = {"core": {"core"}, "analyzer": {"core", "analyzer"}, "lib": {"core", "analyzer", "lib"},
           "service": {"core", "analyzer", "lib", "service"}, "cli": {"core", "analyzer", "lib", "cli"}}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

root = sys.argv[1]
files = []
for layer in ALLOWED:
    d = os.path.join(root, layer)
    if os.path.isdir(d):
        files += [layer + "/" + f for f in sorted(os.listdir(d)) if f.endswith((".c", ".h"))]
have = set(files)
errs, edges = [], {}
for f in files:
    layer = f.split("/")[0]
    with open(os.path.join(root, f), encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    for inc in INCLUDE.findall(text):
        target = os.path.normpath(inc if "/" in inc else os.path.join(layer, inc))
        if target not in have:
            continue  # generated (build/gen) or not one of the layers
        if target.split("/")[0] not in ALLOWED[layer]:
            errs.append("layer: %s includes %s" % (f, inc))
        edges.setdefault(f, set()).add(target)



def cycles(graph, label):
    """Appends to errs one line per loop that a depth-first walk of graph meets."""
    state, stack = {}, []

    def visit(u):
        state[u] = 1
        stack.append(u)
        for v in sorted(graph.get(u, ())):
            if state.get(v) == 1:
                errs.append(label + ": " + " -> ".join(stack[stack.index(v):] + [v]))
            elif v not in state:
                visit(v)
        stack.pop()
        state[u] = 2

    for u in sorted(graph):
        if u not in state:
            visit(u)


cycles(edges, "cycle")
# Modules: FOLDER/NAME for NAME.c and NAME.h together; an edge where one includes the other's header.
modules = {}
for f, targets in edges.items():
    m = os.path.splitext(f)[0]
    modules.setdefault(m, set()).update(os.path.splitext(t)[0] for t in targets if os.path.splitext(t)[0] != m)
cycles(modules, "module cycle")
print("\n".join(errs), end="\n" if errs else "")
