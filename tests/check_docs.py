#!/usr/bin/env python3
# Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
#
# check_docs: the sources and documents say what the code does today.
#
#  1. No milestone words: "for now", "until ... lands", "(later)", "not
#     yet implemented", "not implemented" (gort has no stubs), "no <word>
#     yet" in the tracked sources, build files and documents.
#  2. Every fatal message README.md and include/gort.h quote
#     ("fatal error: X" in backquotes or double quotes) is one the code
#     can print: X appears in a string literal of the runtime's sources.
#
# Prints one line per finding and "check_docs: N findings"; exit status 1
# if there are any.
#
#     python3 tests/check_docs.py [SOURCE_ROOT]
import os
import re
import subprocess
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..')
root = os.path.abspath(root)

MILESTONES = [
    (re.compile(r'\bfor now\b', re.I), 'milestone word "for now"'),
    (re.compile(r'\buntil\b[^.\n]{0,40}\blands?\b', re.I), 'milestone phrase "until ... lands"'),
    (re.compile(r'\(later\)', re.I), 'milestone word "(later)"'),
    (re.compile(r'\bnot (yet )?implemented\b', re.I), 'a promised stub ("not implemented")'),
    (re.compile(r'\bnot yet (supported|ported|landed)\b', re.I), 'milestone phrase "not yet ..."'),
    (re.compile(r'\bno \w+ yet\b', re.I), 'milestone phrase "no ... yet"'),
]
RUNTIME_DIRS = ('malloc', 'mheap', 'mcentral', 'mgc', 'mprof', 'sched')


def tracked_files():
    try:
        out = subprocess.run(['git', '-C', root, 'ls-files'], capture_output=True, text=True, check=True).stdout
        files = out.split()
    except (OSError, subprocess.CalledProcessError):
        files = []
        for d, _, names in os.walk(root):
            rel = os.path.relpath(d, root)
            if rel.startswith(('build', 'subprojects', '.git')):
                continue
            files += [os.path.normpath(os.path.join(rel, n)) for n in names]
    keep = []
    for f in files:
        if f.startswith('subprojects/') or f == 'tests/check_docs.py':
            continue
        if f.endswith(('.c', '.h', '.S', '.md', '.py', '.sh', '.txt')) or os.path.basename(f) in ('meson.build', 'meson_options.txt', 'run'):
            keep.append(f)
    return keep


def read(f):
    with open(os.path.join(root, f), encoding='utf-8', errors='replace') as fh:
        return fh.read()


findings = []

files = tracked_files()
for f in files:
    for n, line in enumerate(read(f).split('\n'), 1):
        for pat, what in MILESTONES:
            if pat.search(line):
                findings.append(f'{f}:{n}: {what}: {line.strip()}')

# The runtime's string literals, joined (adjacent literals concatenate).
literals = []
for f in files:
    if f.split('/')[0] in RUNTIME_DIRS and f.endswith(('.c', '.h')):
        text = read(f)
        for m in re.finditer(r'"((?:[^"\\\n]|\\.)*)"', text):
            literals.append(m.group(1).replace('\\n', '\n').replace('\\"', '"'))
allstrings = '\x00'.join(literals)

quoted = 0
for f in ('README.md', 'include/gort.h'):
    text = read(f)
    # Join C comment continuation lines (" * ") and wrapped prose.
    flat = re.sub(r'\n\s*\*?\s*', ' ', text)
    for m in re.finditer(r'(?:`|")fatal error: ([^`"]+?)(?:`|")', flat):
        msg = m.group(1).strip()
        if '...' in msg or msg.endswith(':'):
            continue  # a pattern, not a message
        quoted += 1
        if '<' in msg:
            # "<held> then <taking>": the code's format has a conversion there.
            pat = re.sub(r'<[^>]+>', lambda _: r'%[a-z]+', re.escape(msg).replace(r'\<', '<').replace(r'\>', '>'))
            if not re.search(pat, allstrings):
                findings.append(f'{f}: quotes "fatal error: {msg}", which no runtime format prints')
        elif msg not in allstrings:
            findings.append(f'{f}: quotes "fatal error: {msg}", which no runtime source prints')

for x in findings:
    print(x)
print(f'check_docs: {len(files)} files, {quoted} quoted fatal messages, {len(findings)} findings')
sys.exit(1 if findings else 0)
