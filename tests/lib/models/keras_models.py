"""Test fixture: builds two small Keras models (Sequential CNN, functional with two inputs' worth of
layers), saves them as .keras files and their predictions on a fixed input as JSON.
Usage: python keras_models.py OUTPUT_FOLDER"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras  # noqa: E402
import numpy as np  # noqa: E402

folder = sys.argv[1]
keras.utils.set_random_seed(7)
x = np.random.default_rng(3).random((4, 28, 28, 1), dtype=np.float32)

sequential = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    keras.layers.Conv2D(8, 3, activation="relu", padding="same"),
    keras.layers.BatchNormalization(),
    keras.layers.MaxPooling2D(2),
    keras.layers.Dropout(0.25),
    keras.layers.Conv2D(16, 3, activation="relu"),
    keras.layers.Flatten(),
    keras.layers.Dense(32, activation="relu"),
    keras.layers.Dense(10, activation="softmax"),
])
# A few steps of training, so that batch-norm statistics are not their initial values.
sequential.compile(optimizer="adam", loss="categorical_crossentropy")
sequential.fit(x, keras.utils.to_categorical([0, 1, 2, 3], 10), epochs=2, verbose=0)

inputs = keras.Input(shape=(28, 28, 1), name="image")
features = keras.layers.Conv2D(4, 3, activation="relu", name="convolution")(inputs)
pooled = keras.layers.GlobalAveragePooling2D(name="moyenne")(features)
flat = keras.layers.Flatten(name="aplatir")(keras.layers.MaxPooling2D(4, name="pooling")(features))
merged = keras.layers.Concatenate(name="fusion")([pooled, flat])
outputs = keras.layers.Dense(3, activation="softmax", name="sortie")(merged)
functional = keras.Model(inputs, outputs, name="fonctionnel")

predictions = {}
for name, model in (("sequentiel", sequential), ("fonctionnel", functional)):
    model.save(os.path.join(folder, f"{name}.keras"))
    predictions[name] = model.predict(x, verbose=0).tolist()
with open(os.path.join(folder, "predictions.json"), "w") as stream:
    json.dump({"input": x.reshape(-1).tolist(), "predictions": predictions, "keras": keras.__version__}, stream)
