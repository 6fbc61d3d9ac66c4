#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""List the error and warning messages of vfio-bpf's tools, and check that
the documentation names each one.

  scripts/messages.py list            every message: FILE:LINE: KEY
  scripts/messages.py check DOC...    exit 1 if a message's KEY is in no DOC

A message is the format string of a call that reports to the operator:
fprintf(stderr, ...), snprintf(err|msg|why, ...) whose text a caller
prints, the policy parser's fail(...) and warn(...).  Its KEY is the head
of its first piece of fixed text (between conversion specifications, up
to a colon, semicolon or parenthesis, at most 60 characters): what an
operator pastes into a search, so what the docs must contain.  A format
with no fixed text of 12 characters or more ("%s: %s") only passes on a
message made elsewhere, and is not listed.
"""
import glob
import re
import sys

CALL = re.compile(
    r'\b(?:fprintf\(\s*stderr\s*,'
    r'|v?snprintf\(\s*(?:err|msg|why|errbuf|reason)\w*\s*,[^,]*,'
    r'|(?<![\w.>])(?:fail|warn|vfb_fail)\(\s*(?:c|ctx)\s*,[^,]*,)'
    r'\s*((?:"(?:[^"\\]|\\.)*"\s*)+)', re.S)
LIT = re.compile(r'"((?:[^"\\]|\\.)*)"')
SPEC = re.compile(r'%[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?:hh|h|ll|l|z|j|t)?[diouxXeEfgcsp%]')
# Progress lines a tool prints on success are not errors.
NOT_ERRORS = re.compile(r'Ctrl-C to stop|^vfio-trace: done|events shown|serving http|reading the counters pinned at')


def key_of(fmt):
    text = fmt.replace('\\n', ' ').replace('\\t', ' ').replace('\\"', '"')
    text = re.sub(r'^(%s: )?(vfio-bpf|vfio-trace|vfio_exporter)?:?\s*(warning: )?', '', text)
    for piece in SPEC.split(text):
        piece = re.sub(r'\s+', ' ', piece).strip(" :;,.()'\"-")
        # The head of a sentence is what an operator searches for: up to
        # its first colon, semicolon or parenthesis, and 60 characters.
        head = re.split(r'[:;(]', piece)[0].strip(" ,.'\"-")
        if len(head) >= 12:
            piece = head
        if len(piece) >= 12:
            return piece[:60].rsplit(' ', 1)[0] if len(piece) > 60 else piece
    return ''


def messages(top='.'):
    out = []
    files = sorted(glob.glob(top + '/loader/*.c') + glob.glob(top + '/lib/*.c'))
    for f in files:
        src = open(f).read()
        for m in CALL.finditer(src):
            fmt = ''.join(LIT.findall(m.group(1)))
            if NOT_ERRORS.search(fmt):
                continue
            key = key_of(fmt)
            if len(key) < 12:
                continue
            line = src.count('\n', 0, m.start()) + 1
            out.append((f[len(top) + 1:], line, key))
    return out


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == 'list':
        for f, line, key in messages():
            print(f'{f}:{line}: {key}')
        return 0
    if len(sys.argv) >= 3 and sys.argv[1] == 'check':
        docs = ' '.join(re.sub(r'\s+', ' ', open(d).read()) for d in sys.argv[2:])
        docs = docs.replace('`', '').replace('\\|', '|')
        missing = [(f, l, k) for f, l, k in messages() if k not in docs]
        for f, l, k in missing:
            print(f'{f}:{l}: not in {" ".join(sys.argv[2:])}: "{k}"')
        n = len(messages())
        print(f'{n - len(missing)} of {n} messages documented')
        return 1 if missing else 0
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main())
