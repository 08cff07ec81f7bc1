"""Extracts from a tensorflow_cpu wheel what tfjs-node's addon needs: the two shared libraries and
the closure of C headers its sources include. Usage: extract_libtensorflow.py WHEEL DEPS_DIR HEADER..."""
import os
import re
import sys
import zipfile

INCLUDE_ROOT = "tensorflow/include/"
LIBRARIES = {
    "tensorflow/libtensorflow_cc.so.2": "libtensorflow_cc.so.2",
    "tensorflow/libtensorflow_framework.so.2": "libtensorflow_framework.so.2",
}
QUOTED_INCLUDE = re.compile(rb'^\s*#\s*include\s+"([^"]+)"', re.M)


def main() -> None:
    wheel, deps, seeds = sys.argv[1], sys.argv[2], sys.argv[3:]
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        lib_dir = os.path.join(deps, "lib")
        os.makedirs(lib_dir, exist_ok=True)
        for member, target in LIBRARIES.items():
            if member not in names:
                sys.exit(f"{wheel}: {member} is missing from the wheel")
            destination = os.path.join(lib_dir, target)
            temporary = destination + ".part"
            with archive.open(member) as source, open(temporary, "wb") as out:
                while True:
                    block = source.read(1 << 22)
                    if not block:
                        break
                    out.write(block)
            os.replace(temporary, destination)
        # Follow quoted includes from the addon's own headers; system and Eigen headers are not needed.
        pending, seen = list(seeds), set()
        while pending:
            header = pending.pop()
            if header in seen:
                continue
            seen.add(header)
            member = INCLUDE_ROOT + header
            if member not in names:
                continue
            data = archive.read(member)
            destination = os.path.join(deps, "include", header)
            os.makedirs(os.path.dirname(destination), exist_ok=True)
            with open(destination, "wb") as out:
                out.write(data)
            pending.extend(match.decode() for match in QUOTED_INCLUDE.findall(data))
    print(f"extracted 2 libraries and {len(seen)} headers")


if __name__ == "__main__":
    main()
