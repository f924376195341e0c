#!/usr/bin/env python3
"""Top-5 ImageNet classes of an image, with the Python module: classify_image.py WEIGHTS IMAGE"""
import sys

import squeezenet

if len(sys.argv) != 3:
    sys.exit("usage: classify_image.py WEIGHTS IMAGE")
try:
    model = squeezenet.load(sys.argv[1])
    for p in model.classify(sys.argv[2], top=5):
        print(f"{100 * p.score:7.2f}%  {p.index:4d}  {p.name}")
except squeezenet.Error as e:
    sys.exit(str(e))
