#!/usr/bin/env python3
"""Embeds a text file as a NUL-terminated C char array: embed.py SYMBOL IN OUT."""
import sys

sym, src, dst = sys.argv[1:4]
data = open(src, 'rb').read()
with open(dst, 'w') as f:
    f.write('/* generated from %s by tools/embed.py */\n' % src.split('/')[-1])
    f.write('const char %s[] = {\n' % sym)
    for i in range(0, len(data), 16):
        f.write('    ' + ''.join('0x%02x,' % b for b in data[i:i + 16]) + '\n')
    f.write('    0x00};\n')
