"""Keras' own apply_affine_transform (legacy ImageDataGenerator), run with NumPy and SciPy only.
The functions are taken from the installed keras sources (importing keras would need a backend).
stdin: JSON {"images": [[h][w] floats...], "params": [{theta, tx, ty, shear, zx, zy}...]}; stdout: JSON images."""
import ast
import importlib.util
import json
import os
import sys
import types

import numpy as np
import scipy.ndimage

spec = importlib.util.find_spec("keras")
source_file = os.path.join(spec.submodule_search_locations[0], "src", "legacy", "preprocessing", "image.py")
tree = ast.parse(open(source_file).read())
wanted = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in ("transform_matrix_offset_center", "apply_affine_transform")]
for node in wanted:
    node.decorator_list = []
namespace = {"np": np, "scipy": types.SimpleNamespace(ndimage=types.SimpleNamespace(interpolation=scipy.ndimage))}
exec(compile(ast.Module(body=wanted, type_ignores=[]), source_file, "exec"), namespace)
apply_affine_transform = namespace["apply_affine_transform"]

request = json.load(sys.stdin)
out = []
for image, p in zip(request["images"], request["params"]):
    x = np.array(image, dtype=np.float32)[:, :, None]
    y = apply_affine_transform(x, theta=p["theta"], tx=p["tx"], ty=p["ty"], shear=p["shear"], zx=p["zx"], zy=p["zy"],
                               row_axis=0, col_axis=1, channel_axis=2, fill_mode="nearest", order=1)
    out.append(y[:, :, 0].tolist())
print(json.dumps(out))
