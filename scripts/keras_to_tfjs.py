"""Converts a Keras model file (.keras or .h5) to the TensorFlow.js layers format: model.json + one
weights file, laid out as `tensorflowjs_converter --input_format=keras` lays them out, for when that
converter cannot be installed (it is not on this machine's package index). The topology is Keras' own
JSON (Keras 3 writes it differently from Keras 2); `loadPretrained` in lib/models reads both.

Usage: python scripts/keras_to_tfjs.py MODEL.keras OUTPUT_FOLDER
"""

import json
import os
import sys
import tempfile

WEIGHTS_FILE = "group1-shard1of1.bin"


def fail(message):
    print(f"keras_to_tfjs : {message}", file=sys.stderr)
    sys.exit(2)


def main(argv):
    if len(argv) != 3 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 2
    source, output = argv[1], argv[2]
    if not os.path.isfile(source):
        fail(f"{source} introuvable : donnez le chemin d'un modèle Keras (.keras ou .h5).")
    try:
        import keras
        import numpy as np
    except ImportError as error:
        fail(f"Keras n'est pas installé dans ce Python ({error}) : pip install tensorflow_cpu (ou keras).")
    try:
        model = keras.models.load_model(source, compile=False)
    except Exception as error:  # Keras raises many kinds: say which file and why.
        fail(f"{source} : modèle Keras illisible ({error}).")

    specs, chunks = [], []
    for layer in model.layers:
        for variable in layer.weights:
            # TensorFlow.js finds each weight by "<layer name>/<weight name>".
            values = np.asarray(variable.numpy(), dtype=np.float32)
            specs.append({"name": f"{layer.name}/{variable.name}", "shape": list(values.shape), "dtype": "float32"})
            chunks.append(values.tobytes(order="C"))

    description = {
        "format": "layers-model",
        "generatedBy": f"keras v{keras.__version__}",
        "convertedBy": "analyse-image scripts/keras_to_tfjs.py",
        "modelTopology": {
            "keras_version": keras.__version__,
            "backend": keras.backend.backend(),
            "model_config": json.loads(model.to_json()),
        },
        "weightsManifest": [{"paths": [WEIGHTS_FILE], "weights": specs}],
    }
    os.makedirs(output, exist_ok=True)
    # Each file is complete before it takes its final name: an interrupted conversion leaves no half file.
    for name, data, mode in ((WEIGHTS_FILE, b"".join(chunks), "wb"), ("model.json", json.dumps(description), "w")):
        handle, temporary = tempfile.mkstemp(dir=output, prefix=f".{name}.")
        with os.fdopen(handle, mode) as stream:
            stream.write(data)
        os.replace(temporary, os.path.join(output, name))
    total = sum(len(chunk) for chunk in chunks)
    print(f"{source} -> {output}/model.json + {WEIGHTS_FILE} ({len(specs)} poids, {total} octets)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
