#!/usr/bin/env python3
"""Reduce a fuzzer's finding to the bytes that matter (tests/fuzz/README.md).

usage: minimize.py RAW_READ SEED INPUT [TIMEOUT_S]

SEED is the file the fuzzer started from and INPUT a same-sized artifact. RAW_READ
(build-fuzz/raw_read) reads a file in-process with the trusted readers; its outcome on INPUT
(crash: killed by a signal; hang: still running after TIMEOUT_S, default 1.5; memory: exit
status from a failed allocation under a 1 GiB address-space limit) is the class to keep.
Delta debugging over the bytes where INPUT differs from SEED keeps the smallest set that
still gives that class, and prints it as (offset, value) pairs for tests/test_untrusted.c.
"""
import os
import resource
import subprocess
import sys
import tempfile


def outcome(raw_read, data, timeout):
    with tempfile.NamedTemporaryFile(suffix='.h5', delete=False) as f:
        f.write(data)
        path = f.name
    limit = lambda: resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    try:
        r = subprocess.run([raw_read, path], capture_output=True, timeout=timeout,
                           preexec_fn=limit)
        if r.returncode < 0:
            return 'crash'
        return 'ok' if r.returncode == 0 else 'memory'
    except subprocess.TimeoutExpired:
        return 'hang'
    finally:
        os.unlink(path)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    raw_read, seed_path, input_path = sys.argv[1:4]
    timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 1.5
    seed, data = open(seed_path, 'rb').read(), open(input_path, 'rb').read()
    if len(seed) != len(data):
        sys.exit('the input and the seed differ in length: only byte changes are reduced')

    def build(diffs):
        b = bytearray(seed)
        for off, val in diffs:
            b[off] = val
        return bytes(b)

    want = outcome(raw_read, data, timeout)
    diffs = [(i, data[i]) for i in range(len(seed)) if data[i] != seed[i]]
    print('%s: %s, %d bytes differ from the seed' % (input_path, want, len(diffs)), flush=True)
    if want == 'ok':
        return
    n = 2
    while len(diffs) >= 2:
        size = max(1, len(diffs) // n)
        parts = [diffs[i:i + size] for i in range(0, len(diffs), size)]
        for k, part in enumerate(parts):
            rest = [d for j, p in enumerate(parts) if j != k for d in p]
            if outcome(raw_read, build(part), timeout) == want:
                diffs, n = part, 2
                break
            if outcome(raw_read, build(rest), timeout) == want:
                diffs, n = rest, max(n - 1, 2)
                break
        else:
            if n >= len(diffs):
                break
            n = min(len(diffs), 2 * n)
    print('%s %s: %s' % (os.path.basename(input_path), want,
                         ', '.join('{%d, 0x%02x}' % d for d in diffs)))


if __name__ == '__main__':
    main()
