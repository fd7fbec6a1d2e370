"""Build of pytlscheck's C extension (pytlscheck._core).

The C core (csrc/core) and the CPython binding (csrc/binding) are compiled
into one extension module linked against the system OpenSSL (>= 3.0).
pkg-config is used when it is present; otherwise the default paths.
Set PYTLSCHECK_WERROR=1 to turn warnings into errors (CI does), and
PYTLSCHECK_SANITIZE=address,undefined for a sanitizer build.
"""
import glob
import os
import shlex
import shutil
import subprocess

from setuptools import Extension, setup

# The one list of warnings, shared with csrc/Makefile.
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "csrc", "warnings.txt")) as f:
    WARNINGS = [w for line in f if not line.startswith("#") for w in line.split()]


def pkg_config(*args):
    if not shutil.which("pkg-config"):
        return None
    try:
        out = subprocess.run(["pkg-config", *args, "openssl"], check=True,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return shlex.split(out)


def openssl_flags():
    cflags = pkg_config("--cflags") or []
    libs = pkg_config("--libs") or ["-lssl", "-lcrypto"]
    include_dirs = [f[2:] for f in cflags if f.startswith("-I")]
    library_dirs = [f[2:] for f in libs if f.startswith("-L")]
    libraries = [f[2:] for f in libs if f.startswith("-l")]
    return include_dirs, library_dirs, libraries


include_dirs, library_dirs, libraries = openssl_flags()
extra_compile = WARNINGS + [
    "-std=c11", "-fvisibility=hidden",
    "-D_GNU_SOURCE",
    # Pin the OpenSSL API so deprecated calls cannot creep in.
    "-DOPENSSL_API_COMPAT=30000", "-DOPENSSL_NO_DEPRECATED",
]
extra_link = []
if os.environ.get("PYTLSCHECK_WERROR") == "1":
    extra_compile.append("-Werror")
sanitize = os.environ.get("PYTLSCHECK_SANITIZE")
if sanitize:
    extra_compile += [f"-fsanitize={sanitize}", "-fno-omit-frame-pointer", "-g", "-O1"]
    extra_link += [f"-fsanitize={sanitize}"]

sources = sorted(glob.glob("csrc/core/*/*.c")) + sorted(glob.glob("csrc/binding/*.c"))

setup(
    ext_modules=[
        Extension(
            "pytlscheck._core",
            sources=sources,
            include_dirs=["csrc/include", "csrc/core", "csrc/core/x509", "csrc/core/conn",
                          "csrc/core/explain"] + include_dirs,
            library_dirs=library_dirs,
            libraries=libraries,
            extra_compile_args=extra_compile,
            extra_link_args=extra_link,
            depends=glob.glob("csrc/**/*.h", recursive=True),
        )
    ],
)
