#!/usr/bin/python3
"""Seed corpora for fuzz_pth, fuzz_pickle and fuzz_zip: small .pth files in both containers, the pickles inside them,
and zip archives stored, deflated and with folders, as torch.save and re-zipping tools write them."""
import argparse
import collections
import io
import os
import pickle
import random
import sys
import zipfile

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures'))
from make_hostile_pickles import py2_legacy  # noqa: E402
from seed_corpus import write_seeds  # noqa: E402


def saved(obj, legacy=False):
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=not legacy)
    return buf.getvalue()


def rezipped(archive, method, folders=False):
    """The entries of `archive` (None: no entries) in a new zip, compressed with `method`."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', method) as out:
        if archive is not None:
            with zipfile.ZipFile(io.BytesIO(archive)) as z:
                if folders:
                    out.writestr('archive/', b'')
                for name in z.namelist():
                    out.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), z.read(name), method)
    return buf.getvalue()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--out', required=True)
    out = ap.parse_args().out
    torch.manual_seed(1)
    small = collections.OrderedDict(w=torch.randn(2, 3), b=torch.randn(2))
    base = torch.randn(3, 4)
    seeds = {
        'fuzz_pth': {
            'zip': saved(small),
            'legacy': saved(small, legacy=True),
            'half_legacy': saved(collections.OrderedDict((k, v.half()) for k, v in small.items()), legacy=True),
            'wrapped': saved({'state_dict': small, 'epoch': 2, 'lr': 0.01}),
            'strided': saved(collections.OrderedDict(t=base.t(), s=base[1:, 2:])),
            'py2_legacy': py2_legacy(random.Random(1)),
        },
    }
    with zipfile.ZipFile(io.BytesIO(seeds['fuzz_pth']['zip'])) as z:
        state_pickle = z.read('archive/data.pkl')
    seeds['fuzz_pickle'] = {
        'state_dict': state_pickle,
        'legacy_stream': seeds['fuzz_pth']['legacy'],
        'protocol4': pickle.dumps(collections.OrderedDict(a=[1, -2, 3.5, None, True], b=(b'xy', 'z' * 300, 1 << 70)),
                                  protocol=4),
        'py2_legacy': seeds['fuzz_pth']['py2_legacy'],
    }
    seeds['fuzz_zip'] = {
        'torch_save': seeds['fuzz_pth']['zip'],
        'deflated': rezipped(seeds['fuzz_pth']['zip'], zipfile.ZIP_DEFLATED),
        'with_folders': rezipped(seeds['fuzz_pth']['zip'], zipfile.ZIP_STORED, folders=True),
        'empty': rezipped(None, zipfile.ZIP_STORED),
    }
    for target, files in seeds.items():
        write_seeds(out, target, files)


if __name__ == '__main__':
    main()
