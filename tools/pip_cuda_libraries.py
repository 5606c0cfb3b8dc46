#!/usr/bin/env python3
"""Installs, into the running virtual environment, the CUDA libraries that the installed torch wheel
needs and that a CUDA 13 toolkit does not provide or provides too old: NCCL (the toolkit's is older than
the wheel's), cuSPARSELt, NVSHMEM and cuFile, at the versions torch pins. tools/davi runs it after
`pip install --no-deps torch`; cuBLAS, cuDNN, cuFFT, ... then come from /usr/local/cuda."""
import importlib.metadata
import re
import subprocess
import sys

NOT_IN_TOOLKIT = ("nvidia-nccl", "nvidia-cusparselt", "nvidia-nvshmem")


def requirement_name(requirement):
    return re.split(r"[=<>~\[ ;]", requirement.strip(), maxsplit=1)[0]


def pip_install(requirements):
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", *requirements], check=True)


wanted, toolkit = [], None
for requirement in importlib.metadata.requires("torch") or []:
    spec = requirement.split(";")[0].strip()
    name = requirement_name(spec)
    if name.startswith(NOT_IN_TOOLKIT):
        wanted.append(spec)
    elif name == "cuda-toolkit":
        toolkit = re.sub(r"\[[^\]]*\]", "", spec)  # the meta-package pinning each library's version
if toolkit:
    pip_install([toolkit])
    for requirement in importlib.metadata.requires("cuda-toolkit") or []:
        spec, _, marker = requirement.partition(";")
        if "extra == 'cufile'" in marker or 'extra == "cufile"' in marker:
            wanted.append(spec.strip())
pip_install(wanted)
print(" ".join(wanted))
