"""Reference outputs of Keras' ImageDataGenerator, for tests/lib/augment/augment.test.ts.

Keras' own code is used when its sources are installed (`pip install --no-deps keras` is enough):
the functions and methods are taken from keras/src/legacy/preprocessing/image.py with `ast` and run
with NumPy and SciPy alone, because importing keras would need one of its backends. Without them,
only apply_affine_transform can be checked, against a transcription in a few lines of NumPy/SciPy.

stdin: JSON {"tasks": [task, ...]}; stdout: JSON {"reference": str, "results": [result or null, ...]}.
Tasks:
  {"mode": "apply", "images": [h][w] lists, "params": [{theta, tx, ty, shear, zx, zy}, ...]} -> images
  {"mode": "params", "options": {...}, "shape": [h, w, c], "seed": s, "count": n} -> parameter dicts
      drawn by get_random_transform after np.random.seed(s)
  {"mode": "flow", "options": {...}, "images": [n][h][w], "labels": [n], "batch_size": b, "seed": s,
   "batches": k} -> [{"indices", "images"}] of the first k batches of flow(x, y, b) after
      np.random.seed(s) (the course's call: no seed given to flow, NumPy's global stream)
"""
import ast
import importlib.util
import json
import os
import sys
import types

import numpy as np
import scipy.ndimage

IMAGE_FUNCTIONS = ("transform_matrix_offset_center", "apply_affine_transform")
METHODS = {"Iterator": ("reset", "_set_index_array", "_flow_index"), "ImageDataGenerator": ("get_random_transform",)}


def load_keras():
    """Keras' functions and methods, compiled from its sources without importing keras; None if absent."""
    spec = importlib.util.find_spec("keras")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], "src", "legacy", "preprocessing", "image.py")
    if not os.path.exists(path):
        return None
    tree = ast.parse(open(path, encoding="utf-8").read())
    nodes = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in IMAGE_FUNCTIONS:
            node.decorator_list = []
            nodes.append(node)
        if isinstance(node, ast.ClassDef) and node.name in METHODS:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name in METHODS[node.name]:
                    item.decorator_list = []
                    item.name = f"{node.name}__{item.name}"
                    nodes.append(item)
    # Keras calls scipy.ndimage.interpolation.affine_transform, a path recent SciPy no longer has.
    namespace = {"np": np, "scipy": types.SimpleNamespace(ndimage=types.SimpleNamespace(interpolation=scipy.ndimage))}
    exec(compile(ast.Module(body=nodes, type_ignores=[]), path, "exec"), namespace)
    version = "?"
    version_file = os.path.join(list(spec.submodule_search_locations)[0], "src", "version.py")
    if os.path.exists(version_file):
        for line in open(version_file, encoding="utf-8"):
            if line.startswith("__version__"):
                version = line.split("=")[1].strip().strip("\"'")
    return namespace, f"keras {version} ({path})"


def transcribed_apply_affine_transform(x, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1, **_):
    """What Keras' apply_affine_transform computes for a channels-last image, in a few lines."""
    if theta == 0 and tx == 0 and ty == 0 and shear == 0 and zx == 1 and zy == 1:
        return x
    t, s = np.deg2rad(theta), np.deg2rad(shear)
    m = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    m = m @ np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
    m = m @ np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]])
    m = m @ np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]])
    ox, oy = x.shape[0] / 2 - 0.5, x.shape[1] / 2 - 0.5
    m = np.array([[1, 0, ox], [0, 1, oy], [0, 0, 1]]) @ m @ np.array([[1, 0, -ox], [0, 1, -oy], [0, 0, 1]])
    m[:, [0, 1]] = m[:, [1, 0]]
    m[[0, 1]] = m[[1, 0]]
    channels = [scipy.ndimage.affine_transform(x[:, :, c], m[:2, :2], m[:2, 2], order=1, mode="nearest") for c in range(x.shape[2])]
    return np.stack(channels, axis=2)


def generator(keras, options):
    """An object with what get_random_transform reads from ImageDataGenerator(**options), channels last."""
    zoom = options["zoomRange"]
    gen = type("Generator", (), {"get_random_transform": keras["ImageDataGenerator__get_random_transform"]})()
    gen.row_axis, gen.col_axis, gen.channel_axis = 1, 2, 3
    gen.rotation_range = options["rotationRange"]
    gen.width_shift_range = options["widthShiftRange"]
    gen.height_shift_range = options["heightShiftRange"]
    gen.shear_range = options["shearRange"]
    # ImageDataGenerator.__init__: a scalar zoom z becomes [1 - z, 1 + z].
    gen.zoom_range = [1 - zoom, 1 + zoom] if np.isscalar(zoom) else list(zoom)
    gen.horizontal_flip = gen.vertical_flip = False
    gen.channel_shift_range = 0.0
    gen.brightness_range = None
    return gen


def run(task, keras):
    apply = keras["apply_affine_transform"] if keras else transcribed_apply_affine_transform
    if task["mode"] == "apply":
        out = []
        for image, p in zip(task["images"], task["params"]):
            x = np.array(image, dtype=np.float32)[:, :, None]
            y = apply(x, theta=p["theta"], tx=p["tx"], ty=p["ty"], shear=p["shear"], zx=p["zx"], zy=p["zy"],
                      row_axis=0, col_axis=1, channel_axis=2, fill_mode="nearest", cval=0.0, order=1)
            out.append(y[:, :, 0].tolist())
        return out
    if keras is None:
        return None
    gen = generator(keras, task["options"])
    if task["mode"] == "params":
        np.random.seed(task["seed"])
        keys = ("theta", "tx", "ty", "shear", "zx", "zy")
        drawn = [gen.get_random_transform(tuple(task["shape"])) for _ in range(task["count"])]
        return [{k: float(p[k]) for k in keys} for p in drawn]
    if task["mode"] == "flow":
        x = np.array(task["images"], dtype=np.float32)[:, :, :, None]
        flow = type("Flow", (), {name: keras[f"Iterator__{name}"] for name in METHODS["Iterator"]})()
        flow.n, flow.batch_size, flow.shuffle, flow.seed = len(x), task["batch_size"], True, None
        flow.batch_index = flow.total_batches_seen = 0
        np.random.seed(task["seed"])
        batches = []
        indices_stream = flow._flow_index()
        for _ in range(task["batches"]):
            indices = next(indices_stream)
            # NumpyArrayIterator._get_batches_of_transformed_samples, one image after the other.
            images = []
            for j in indices:
                p = gen.get_random_transform(x[j].shape)
                images.append(apply(x[j], p["theta"], p["tx"], p["ty"], p["shear"], p["zx"], p["zy"],
                                    row_axis=0, col_axis=1, channel_axis=2, fill_mode="nearest", cval=0.0, order=1)[:, :, 0].tolist())
            batches.append({"indices": [int(j) for j in indices], "images": images})
        return batches
    raise ValueError(f"unknown mode {task['mode']}")


def main():
    loaded = load_keras()
    keras, reference = loaded if loaded else (None, "NumPy/SciPy transcription of apply_affine_transform (keras sources not installed)")
    request = json.load(sys.stdin)
    json.dump({"reference": reference, "results": [run(task, keras) for task in request["tasks"]]}, sys.stdout)


main()
